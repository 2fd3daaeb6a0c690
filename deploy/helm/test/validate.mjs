// Validates rendered manifests (one YAML file, several documents) against the Kubernetes API schemas
// that kubernetes-models generates from Kubernetes' own OpenAPI document (types, required fields, enums,
// formats), and ServiceMonitor against prometheus-operator's CRD schema. Exits 1 on the first kind it
// does not know or any invalid document. Usage: node validate.mjs rendered.yaml
import fs from 'node:fs';
import yaml from 'js-yaml';
const docs = yaml.loadAll(fs.readFileSync(process.argv[2], 'utf8')).filter(Boolean);
let failures = 0;
for (const d of docs) {
  const slash = d.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : d.apiVersion.slice(0, slash);
  const version = d.apiVersion.slice(slash + 1);
  const base = group === 'monitoring.coreos.com' ? '@kubernetes-models/prometheus-operator' : 'kubernetes-models';
  const path = `${base}/${group ? group + '/' : ''}${version}/${d.kind}`;
  let M;
  try { M = (await import(path))[d.kind]; } catch (e) { console.error(`no schema for ${d.apiVersion} ${d.kind}: ${e.message}`); failures++; continue; }
  try { new M(d).validate(); console.log(`valid   ${d.apiVersion} ${d.kind} ${d.metadata.name}`); }
  catch (e) { failures++; console.error(`INVALID ${d.apiVersion} ${d.kind} ${d.metadata?.name}: ${e.message}`); }
}
process.exit(failures ? 1 : 0);
