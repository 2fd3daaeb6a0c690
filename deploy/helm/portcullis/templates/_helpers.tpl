{{- define "portcullis.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "portcullis.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "portcullis.labels" -}}
app.kubernetes.io/name: {{ include "portcullis.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "portcullis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portcullis.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end -}}

{{/* The store's JDBC URL: as given, or the in-cluster PostgreSQL's. */}}
{{- define "portcullis.storeUrl" -}}
{{- if .Values.store.url -}}
{{- .Values.store.url -}}
{{- else if .Values.postgresql.enabled -}}
{{- printf "jdbc:postgresql://%s-postgresql:5432/portcullis" (include "portcullis.fullname" .) -}}
{{- else -}}
{{- fail "store.url is required (or postgresql.enabled: true for a trial)" -}}
{{- end -}}
{{- end -}}

{{- define "portcullis.storeSecret" -}}
{{- if .Values.store.passwordSecret.name -}}
{{- .Values.store.passwordSecret.name -}}
{{- else if .Values.postgresql.enabled -}}
{{- printf "%s-postgresql" (include "portcullis.fullname" .) -}}
{{- else -}}
{{- fail "store.passwordSecret.name is required: a Secret holding the store user's password" -}}
{{- end -}}
{{- end -}}
