// Validates rendered Kubernetes manifests offline, as an API server would, plus the references
// between them that a server does not check:
//  - every document against the OpenAPI schema of its apiVersion/kind (kubernetes-models for the
//    core API, @kubernetes-models/keda for ScaledObject, @kubernetes-models/prometheus-operator for
//    ServiceMonitor); a kind without a schema is an error, not a pass;
//  - unknown fields (a typo such as `replicaz` or a field at the wrong level): the schemas allow
//    extra properties, so the validator is run over a proxy that records which fields it read,
//    and a field of a typed object that the schema never looked at is reported;
//  - duplicate keys (the YAML parser refuses them) and duplicate kind/name pairs;
//  - workload selectors that do not select their own pod template; Services that select no pod
//    or target a port name no selected container has; probes on ports the container does not
//    expose; autoscalers aimed at missing Deployments; Secrets, ConfigMaps and claims that are
//    used but neither rendered nor declared external (--external Kind/name).
//
// usage: node validate.mjs [--external Kind/name]... FILE...
// Prints one line per file; exits 1 if anything is wrong, 2 on bad usage.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const PACKAGES = [
  "kubernetes-models",
  "@kubernetes-models/keda",
  "@kubernetes-models/prometheus-operator",
];

async function modelFor(apiVersion, kind) {
  // "apps/v1" -> apps/v1/Kind, "v1" -> v1/Kind, "keda.sh/v1alpha1" -> keda.sh/v1alpha1/Kind.
  for (const pkg of PACKAGES) {
    try {
      const mod = await import(`${pkg}/${apiVersion}/${kind}`);
      if (mod[kind]) return mod[kind];
    } catch (e) {
      if (e.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED" && e.code !== "ERR_MODULE_NOT_FOUND") throw e;
    }
  }
  return null;
}

// Wraps `value` so that reads of its fields are recorded in `seen` (path -> entry).
function track(value, path, seen) {
  if (value === null || typeof value !== "object") return value;
  const entry = { value, read: new Set(), iterated: false };
  seen.set(path, entry);
  return new Proxy(value, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== "string" || !Object.prototype.hasOwnProperty.call(target, key)) return v;
      entry.read.add(key);
      return v !== null && typeof v === "object" ? track(v, `${path}/${key}`, seen) : v;
    },
    ownKeys(target) {
      // A schema that walks all keys (a map such as labels) or that copies the object knows them.
      entry.iterated = true;
      return Reflect.ownKeys(target);
    },
  });
}

function unknownFields(seen) {
  const out = [];
  for (const [path, e] of seen) {
    if (Array.isArray(e.value) || e.iterated) continue;
    for (const key of Object.keys(e.value)) {
      if (!e.read.has(key)) out.push(`${path}/${key}`);
    }
  }
  return out;
}

function matches(selector, labels) {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels?.[k] !== v) return false;
  }
  for (const expr of selector.matchExpressions ?? []) {
    const has = labels && Object.prototype.hasOwnProperty.call(labels, expr.key);
    const val = labels?.[expr.key];
    if (expr.operator === "In" && !(has && expr.values.includes(val))) return false;
    if (expr.operator === "NotIn" && has && expr.values.includes(val)) return false;
    if (expr.operator === "Exists" && !has) return false;
    if (expr.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

function podTemplate(obj) {
  switch (obj.kind) {
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return obj.spec?.template;
    case "CronJob":
      return obj.spec?.jobTemplate?.spec?.template;
    default:
      return undefined;
  }
}

function crossChecks(objects, external) {
  const errors = [];
  const have = new Set([...external]);
  for (const o of objects) have.add(`${o.kind}/${o.metadata?.name}`);
  const pods = objects.filter((o) => podTemplate(o)).map((o) => ({ owner: o, tpl: podTemplate(o) }));

  for (const o of objects) {
    const id = `${o.kind}/${o.metadata?.name}`;
    const tpl = podTemplate(o);
    if (tpl && o.spec?.selector && !matches(o.spec.selector, tpl.metadata?.labels)) {
      errors.push(`${id}: spec.selector does not select its own pod template`);
    }
    if (tpl) {
      const spec = tpl.spec ?? {};
      const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
      const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
      for (const claim of o.spec?.volumeClaimTemplates ?? []) volumes.set(claim.metadata?.name, {});
      for (const c of containers) {
        const ports = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
        const numbers = new Set((c.ports ?? []).map((p) => p.containerPort));
        for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
          const p = c[probe];
          const port = p?.grpc?.port ?? p?.httpGet?.port ?? p?.tcpSocket?.port;
          if (port === undefined) continue;
          if (typeof port === "string" ? !ports.has(port) : !numbers.has(port)) {
            errors.push(`${id}: container ${c.name} ${probe} uses port ${port} it does not expose`);
          }
        }
        for (const m of c.volumeMounts ?? []) {
          if (!volumes.has(m.name)) errors.push(`${id}: container ${c.name} mounts unknown volume ${m.name}`);
        }
        for (const e of c.env ?? []) {
          const s = e.valueFrom?.secretKeyRef;
          if (s && !have.has(`Secret/${s.name}`)) errors.push(`${id}: env ${e.name} reads missing Secret/${s.name}`);
          const cm = e.valueFrom?.configMapKeyRef;
          if (cm && !have.has(`ConfigMap/${cm.name}`)) errors.push(`${id}: env ${e.name} reads missing ConfigMap/${cm.name}`);
        }
      }
      for (const v of volumes.values()) {
        const ref = v.secret ? `Secret/${v.secret.secretName}`
          : v.configMap ? `ConfigMap/${v.configMap.name}`
          : v.persistentVolumeClaim ? `PersistentVolumeClaim/${v.persistentVolumeClaim.claimName}`
          : null;
        if (ref && !have.has(ref)) errors.push(`${id}: volume ${v.name} needs missing ${ref}`);
      }
      for (const s of spec.imagePullSecrets ?? []) {
        if (!have.has(`Secret/${s.name}`)) errors.push(`${id}: imagePullSecret ${s.name} is missing`);
      }
    }
    if (o.kind === "Service" && o.spec?.selector) {
      const selected = pods.filter((p) => matches({ matchLabels: o.spec.selector }, p.tpl.metadata?.labels));
      if (selected.length === 0) errors.push(`${id}: selects no pod`);
      for (const port of o.spec.ports ?? []) {
        if (typeof port.targetPort !== "string") continue;
        for (const p of selected) {
          const names = (p.tpl.spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((x) => x.name));
          if (!names.includes(port.targetPort)) {
            errors.push(`${id}: targetPort ${port.targetPort} is no container port of ${p.owner.kind}/${p.owner.metadata.name}`);
          }
        }
      }
    }
    const target = o.kind === "HorizontalPodAutoscaler" || o.kind === "ScaledObject" ? o.spec?.scaleTargetRef : null;
    if (target && !have.has(`${target.kind ?? "Deployment"}/${target.name}`)) {
      errors.push(`${id}: scales missing ${target.kind ?? "Deployment"}/${target.name}`);
    }
    if (o.kind === "PodDisruptionBudget" && !pods.some((p) => matches(o.spec?.selector, p.tpl.metadata?.labels))) {
      errors.push(`${id}: selects no pod`);
    }
    if (o.kind === "NetworkPolicy" && !pods.some((p) => matches(o.spec?.podSelector, p.tpl.metadata?.labels))) {
      errors.push(`${id}: podSelector selects no pod`);
    }
  }
  return errors;
}

async function validateFile(file, external) {
  const errors = [];
  const docs = parseAllDocuments(readFileSync(file, "utf8"), { uniqueKeys: true });
  const objects = [];
  const ids = new Set();
  for (const [i, doc] of docs.entries()) {
    for (const e of doc.errors) errors.push(`document ${i + 1}: YAML: ${e.message}`);
    if (doc.errors.length) continue;
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue; // an empty document between separators
    const id = `${obj.kind}/${obj.metadata?.name}`;
    if (!obj.apiVersion || !obj.kind) {
      errors.push(`document ${i + 1}: no apiVersion or kind`);
      continue;
    }
    if (ids.has(id)) errors.push(`${id}: defined twice`);
    ids.add(id);
    const Model = await modelFor(obj.apiVersion, obj.kind);
    if (!Model) {
      errors.push(`${id}: no schema for ${obj.apiVersion} ${obj.kind}`);
      continue;
    }
    const seen = new Map();
    try {
      Model.prototype.validate.call(track(obj, "", seen));
    } catch (e) {
      errors.push(`${id}: ${e.message}`);
    }
    for (const f of unknownFields(seen)) errors.push(`${id}: unknown field ${f}`);
    objects.push(obj);
  }
  errors.push(...crossChecks(objects, external));
  return { count: objects.length, errors };
}

const args = process.argv.slice(2);
const external = new Set();
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--external" && i + 1 < args.length) external.add(args[++i]);
  else if (args[i].startsWith("--")) {
    console.error(`validate: unknown option ${args[i]}`);
    process.exit(2);
  } else files.push(args[i]);
}
if (files.length === 0) {
  console.error("usage: node validate.mjs [--external Kind/name]... FILE...");
  process.exit(2);
}
let failed = false;
for (const file of files) {
  const { count, errors } = await validateFile(file, external);
  if (errors.length) {
    failed = true;
    console.log(`${file}: ${errors.length} problem(s) in ${count} objects`);
    for (const e of errors) console.log(`  ${e}`);
  } else if (count === 0) {
    failed = true;
    console.log(`${file}: no objects`);
  } else {
    console.log(`${file}: ${count} objects valid`);
  }
}
process.exit(failed ? 1 : 0);
