{{- define "portcullis-agent.fullname" -}}
{{- printf "%s-%s" .Release.Name (required "name is required: the agent's name, as connections say via: agent NAME" .Values.name) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "portcullis-agent.labels" -}}
app.kubernetes.io/name: portcullis-agent
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: network-agent
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "portcullis-agent.selectorLabels" -}}
app.kubernetes.io/name: portcullis-agent
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
