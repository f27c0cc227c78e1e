// Validates rendered Kubernetes manifests offline, as an API server would, plus the references
// between them that a server does not check:
//  - every document against the OpenAPI schema of its apiVersion/kind (kubernetes-models for the
//    core API, @kubernetes-models/keda for ScaledObject, @kubernetes-models/prometheus-operator for
//    ServiceMonitor, @kubernetes-models/cert-manager for Certificate); a kind without a schema
//    is an error, not a pass;
//  - unknown fields (a typo such as `replicaz` or a field at the wrong level): the schemas allow
//    extra properties, so the validator is run over a proxy that records which fields it read,
//    and a field of a typed object that the schema never looked at is reported;
//  - duplicate keys (the YAML parser refuses them) and duplicate kind/name pairs;
//  - workload selectors that do not select their own pod template; Services that select no pod
//    or target a port name no selected container has; probes on ports the container does not
//    expose; autoscalers aimed at missing Deployments; Ingresses routed to missing Services or
//    ports; Secrets, ConfigMaps and claims that are used but neither rendered nor declared
//    external (--external Kind/name);
//  - reachability: every address a container is given as `<Service>:<port>` in a plain env value
//    (alone, in a URL or in a list such as `name=host:port,...`), or as a gRPC target
//    `dns:///<Service>.<namespace>.svc.<cluster domain>:<port>` (or a shorter form of the same
//    name: `<Service>.<namespace>`, `<Service>.<namespace>.svc`), must be a port of that Service,
//    admitted by the ingress NetworkPolicies of the pods behind it and by the caller's egress
//    policies (peers are matched by pod labels within the namespace or across all namespaces;
//    ipBlock and namespace label selectors are not assumed to cover pods);
//  - gRPC load balancing: an address one container is given of a Service's gRPC port (a port
//    named grpc or with appProtocol grpc) must be a `dns:///<Service>.<namespace>.svc.<domain>:
//    <port>` target of a headless Service (clusterIP: None), whose DNS name resolves to every
//    ready pod, so that the client's round_robin spreads calls over the replicas; a ClusterIP
//    Service's one virtual IP would pin a client's connection, and all its calls, to one pod.
//    Every `STRATUS_<NAME>_ADDR` (a backend address of the Stratus services) must name a Service
//    of the manifests. A headless Service `<name>-headless` must have the selector and ports of
//    the Service `<name>` it stands beside; a StatefulSet's serviceName must be a headless
//    Service of the manifests that selects its pods (the governing Service of its pod names);
//  - TLS: a container that serves TLS (STRATUS_TLS_CERT in its env) has its STRATUS_TLS_* files
//    on a mounted volume, no gRPC probes (kubelet's speak plain text only) and HTTPS httpGet
//    probes; one that does not, no HTTPS probes; a ServiceMonitor endpoint scrapes https exactly
//    when the pods behind its port serve TLS, with its tlsConfig Secrets present; a Certificate
//    (whose Secret counts as present) names every Service in front of the pods that mount its
//    Secret (name, .<namespace>, .<namespace>.svc), and the serverName of a ServiceMonitor that
//    trusts it.
//
// usage: node validate.mjs [--external Kind/name]... [--namespace NS] FILE...
// (--namespace: the namespace the manifests were rendered for, default "default".)
// Prints one line per file; exits 1 if anything is wrong, 2 on bad usage.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const PACKAGES = [
  "kubernetes-models",
  "@kubernetes-models/keda",
  "@kubernetes-models/prometheus-operator",
  "@kubernetes-models/cert-manager",
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

// NetworkPolicy evaluation for one connection from pod labels `from` to pod labels `to` on
// container port `port` (named `portName`).
function policyTypes(np) {
  return np.spec?.policyTypes ?? (np.spec?.egress ? ["Ingress", "Egress"] : ["Ingress"]);
}
function peerMatches(peer, labels) {
  if (peer.ipBlock) return false;
  const ns = peer.namespaceSelector;
  if (ns !== undefined && (Object.keys(ns.matchLabels ?? {}).length || (ns.matchExpressions ?? []).length)) {
    return false;
  }
  if (peer.podSelector === undefined) return ns !== undefined;
  return matches(peer.podSelector, labels);
}
function portMatches(ports, port, portName) {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => p.port === undefined || p.port === port || p.port === portName ||
    (typeof p.port === "number" && p.endPort !== undefined && port >= p.port && port <= p.endPort));
}
// The NetworkPolicy names that govern `self` in `direction` and refuse the peer; [] = admitted.
function refusedBy(policies, direction, self, peer, port, portName) {
  const applying = policies.filter((np) => matches(np.spec?.podSelector, self) && policyTypes(np).includes(direction));
  const key = direction === "Ingress" ? "ingress" : "egress";
  const peersKey = direction === "Ingress" ? "from" : "to";
  const admitted = applying.some((np) => (np.spec?.[key] ?? []).some((rule) =>
    portMatches(rule.ports, port, portName) &&
    (!rule[peersKey] || rule[peersKey].length === 0 || rule[peersKey].some((p) => peerMatches(p, peer)))));
  return admitted ? [] : applying.map((np) => np.metadata?.name);
}

// The Service addresses in an env value: [{host, port, dns, fqdn}], host being the Service name;
// dns: given as a dns:/// gRPC target, fqdn: by its full name <host>.<namespace>.svc.<domain>.
// A dns:/// name in another namespace is not one of these Services and is left out.
const LABEL = "[a-z0-9](?:[-a-z0-9]*[a-z0-9])?";
function serviceAddresses(value, namespace) {
  const out = [];
  const dnsRe = new RegExp(`dns:///(${LABEL}(?:\\.${LABEL})*):(\\d+)\\b`, "g");
  for (const m of value.matchAll(dnsRe)) {
    const [host, ...rest] = m[1].split(".");
    const tail = rest.join(".");
    const ns = `${namespace}`;
    if (!(tail === "" || tail === ns || tail === `${ns}.svc` || tail.startsWith(`${ns}.svc.`))) continue;
    out.push({ host, port: Number(m[2]), dns: true, fqdn: tail.startsWith(`${ns}.svc.`) });
  }
  const plain = value.replace(dnsRe, " ");
  for (const m of plain.matchAll(new RegExp(`(?:^|[=,\\s/@])(${LABEL}):(\\d+)\\b`, "g"))) {
    out.push({ host: m[1], port: Number(m[2]), dns: false, fqdn: false });
  }
  return out;
}

function reachability(objects, pods, namespace) {
  const errors = [];
  const services = new Map(objects.filter((o) => o.kind === "Service").map((o) => [o.metadata?.name, o]));
  const policies = objects.filter((o) => o.kind === "NetworkPolicy");
  for (const { owner, tpl } of pods) {
    const id = `${owner.kind}/${owner.metadata?.name}`;
    const self = tpl.metadata?.labels ?? {};
    for (const c of [...(tpl.spec?.initContainers ?? []), ...(tpl.spec?.containers ?? [])]) {
      for (const e of c.env ?? []) {
        if (typeof e.value !== "string") continue;
        for (const { host, port: number } of serviceAddresses(e.value, namespace)) {
          const svc = services.get(host);
          if (!svc) continue;
          const sp = (svc.spec?.ports ?? []).find((p) => p.port === number);
          if (!sp) {
            errors.push(`${id}: container ${c.name} env ${e.name} names ${host}:${number}, a port Service/${host} does not have`);
            continue;
          }
          const targets = pods.filter((p) => svc.spec?.selector && matches({ matchLabels: svc.spec.selector }, p.tpl.metadata?.labels));
          for (const t of targets) {
            const tc = (t.tpl.spec?.containers ?? []).flatMap((x) => x.ports ?? []);
            const tp = sp.targetPort ?? sp.port;
            const cp = typeof tp === "string" ? tc.find((x) => x.name === tp) : tc.find((x) => x.containerPort === tp);
            const [port, name] = [cp?.containerPort ?? tp, cp?.name];
            const target = t.tpl.metadata?.labels ?? {};
            const tid = `${t.owner.kind}/${t.owner.metadata?.name}`;
            const inRefused = refusedBy(policies, "Ingress", target, self, port, name);
            if (inRefused.length) {
              errors.push(`${id}: env ${e.name} calls ${host}:${number}, but ${tid}'s NetworkPolicy ${inRefused.join(", ")} does not admit it`);
            }
            const outRefused = refusedBy(policies, "Egress", self, target, port, name);
            if (outRefused.length) {
              errors.push(`${id}: env ${e.name} calls ${host}:${number}, but its egress NetworkPolicy ${outRefused.join(", ")} does not let it out`);
            }
          }
        }
      }
    }
  }
  return errors;
}

// gRPC addresses: dns:/// targets of headless Services (see the header).
function grpcBalancing(objects, pods, namespace) {
  const errors = [];
  const services = new Map(objects.filter((o) => o.kind === "Service").map((o) => [o.metadata?.name, o]));
  const isGrpc = (p) => p.name === "grpc" || p.appProtocol === "grpc";
  for (const { owner, tpl } of pods) {
    const id = `${owner.kind}/${owner.metadata?.name}`;
    for (const c of [...(tpl.spec?.initContainers ?? []), ...(tpl.spec?.containers ?? [])]) {
      for (const e of c.env ?? []) {
        if (typeof e.value !== "string") continue;
        const found = serviceAddresses(e.value, namespace).filter((a) => services.has(a.host));
        if (/^STRATUS_[A-Z0-9]+_ADDR$/.test(e.name) && found.length === 0) {
          errors.push(`${id}: container ${c.name} env ${e.name}=${e.value} names no Service of the manifests`);
        }
        for (const a of found) {
          const svc = services.get(a.host);
          const sp = (svc.spec?.ports ?? []).find((p) => p.port === a.port);
          if (!sp || !isGrpc(sp)) continue;
          const where = `${id}: container ${c.name} env ${e.name} gives the gRPC address ${a.host}:${a.port}`;
          if (!a.dns || !a.fqdn) {
            errors.push(`${where}, not a dns:///${a.host}.${namespace}.svc.<domain>:${a.port} target (round_robin needs one)`);
          }
          if (svc.spec?.clusterIP !== "None") {
            errors.push(`${where}, but Service/${a.host} is not headless (clusterIP: None): its one virtual IP pins each client to one pod`);
          }
        }
      }
    }
  }
  for (const svc of services.values()) {
    const name = svc.metadata?.name ?? "";
    if (!name.endsWith("-headless")) continue;
    const id = `Service/${name}`;
    if (svc.spec?.clusterIP !== "None") errors.push(`${id}: named headless but clusterIP is ${svc.spec?.clusterIP ?? "unset"}, not None`);
    const twin = services.get(name.slice(0, -"-headless".length));
    if (!twin) continue;
    if (JSON.stringify(svc.spec?.selector ?? {}) !== JSON.stringify(twin.spec?.selector ?? {})) {
      errors.push(`${id}: selector differs from Service/${twin.metadata.name}'s`);
    }
    const ports = (x) => JSON.stringify((x.spec?.ports ?? []).map((p) => [p.name, p.port, p.targetPort ?? p.port]));
    if (ports(svc) !== ports(twin)) errors.push(`${id}: ports differ from Service/${twin.metadata.name}'s`);
  }
  // A StatefulSet's serviceName is its governing Service, which gives each pod its stable DNS
  // name <pod>.<service>: only a headless Service that selects the set's pods does.
  for (const sts of objects.filter((o) => o.kind === "StatefulSet")) {
    const id = `StatefulSet/${sts.metadata?.name}`;
    const svc = services.get(sts.spec?.serviceName);
    if (!svc) {
      errors.push(`${id}: serviceName ${sts.spec?.serviceName ?? "(unset)"} names no Service of the manifests`);
    } else if (svc.spec?.clusterIP !== "None") {
      errors.push(`${id}: serviceName ${svc.metadata.name} is not headless (clusterIP: None): its pods get no DNS names`);
    } else if (!svc.spec?.selector || !matches({ matchLabels: svc.spec.selector }, sts.spec?.template?.metadata?.labels)) {
      errors.push(`${id}: serviceName ${svc.metadata.name} does not select the set's pods`);
    }
  }
  return errors;
}

// Whether a container serves TLS (the Stratus binaries do with STRATUS_TLS_CERT).
function servesTls(c) {
  return (c.env ?? []).some((e) => e.name === "STRATUS_TLS_CERT" && e.value);
}

function tlsChecks(objects, pods, have, namespace) {
  const errors = [];
  for (const { owner, tpl } of pods) {
    const id = `${owner.kind}/${owner.metadata?.name}`;
    for (const c of tpl.spec?.containers ?? []) {
      const tls = servesTls(c);
      const mounts = (c.volumeMounts ?? []).map((m) => m.mountPath.replace(/\/+$/, ""));
      for (const e of c.env ?? []) {
        if (!/^STRATUS_TLS_/.test(e.name) || typeof e.value !== "string" || !e.value) continue;
        if (!mounts.some((m) => e.value.startsWith(`${m}/`))) {
          errors.push(`${id}: container ${c.name} env ${e.name}=${e.value} is on no mounted volume`);
        }
      }
      for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
        const p = c[probe];
        if (!p) continue;
        if (tls && p.grpc) {
          errors.push(`${id}: container ${c.name} serves TLS but its ${probe} is a gRPC probe (plain text only)`);
        }
        const scheme = p.httpGet?.scheme ?? "HTTP";
        if (p.httpGet && tls !== (scheme === "HTTPS")) {
          errors.push(`${id}: container ${c.name} ${tls ? "serves" : "does not serve"} TLS but its ${probe} uses ${scheme}`);
        }
      }
    }
  }
  const certs = objects.filter((o) => o.kind === "Certificate");
  const services = objects.filter((o) => o.kind === "Service" && o.spec?.selector);
  const namesOf = (svc) => [svc, `${svc}.${namespace}`, `${svc}.${namespace}.svc`];
  for (const cert of certs) {
    const id = `Certificate/${cert.metadata?.name}`;
    const dns = new Set(cert.spec?.dnsNames ?? []);
    const mounting = pods.filter((p) => (p.tpl.spec?.volumes ?? []).some((v) => v.secret?.secretName === cert.spec?.secretName));
    if (mounting.length === 0) errors.push(`${id}: no pod mounts its Secret/${cert.spec?.secretName}`);
    for (const svc of services) {
      if (!mounting.some((p) => matches({ matchLabels: svc.spec.selector }, p.tpl.metadata?.labels))) continue;
      for (const n of namesOf(svc.metadata?.name)) {
        if (!dns.has(n)) errors.push(`${id}: dnsNames lack ${n} (Service/${svc.metadata?.name} is in front of pods that serve it)`);
      }
    }
  }
  for (const sm of objects.filter((o) => o.kind === "ServiceMonitor")) {
    const id = `ServiceMonitor/${sm.metadata?.name}`;
    const selected = services.filter((s) => matches(sm.spec?.selector, s.metadata?.labels));
    for (const ep of sm.spec?.endpoints ?? []) {
      const tc = ep.tlsConfig ?? {};
      for (const ref of [tc.ca?.secret, tc.cert?.secret, tc.keySecret]) {
        if (ref && !have.has(`Secret/${ref.name}`)) errors.push(`${id}: tlsConfig reads missing Secret/${ref.name}`);
      }
      const https = ep.scheme === "https";
      for (const svc of selected) {
        const sp = (svc.spec.ports ?? []).find((p) => p.name === ep.port);
        if (!sp) continue;
        for (const p of pods.filter((x) => matches({ matchLabels: svc.spec.selector }, x.tpl.metadata?.labels))) {
          const c = (p.tpl.spec?.containers ?? []).find((x) => (x.ports ?? []).some((q) => q.name === sp.targetPort || q.containerPort === sp.targetPort));
          if (c && servesTls(c) !== https) {
            errors.push(`${id}: endpoint ${ep.port} scrapes ${https ? "https" : "http"} but ${p.owner.kind}/${p.owner.metadata?.name} ${https ? "does not serve" : "serves"} TLS`);
          }
        }
      }
      const cert = certs.find((x) => tc.ca?.secret && x.spec?.secretName === tc.ca.secret.name);
      if (cert && tc.serverName && !(cert.spec?.dnsNames ?? []).includes(tc.serverName)) {
        errors.push(`${id}: tlsConfig.serverName ${tc.serverName} is not named by Certificate/${cert.metadata?.name}`);
      }
    }
  }
  return errors;
}

function crossChecks(objects, external, namespace) {
  const errors = [];
  const have = new Set([...external]);
  for (const o of objects) have.add(`${o.kind}/${o.metadata?.name}`);
  // cert-manager makes the Secret a Certificate names.
  for (const o of objects) if (o.kind === "Certificate" && o.spec?.secretName) have.add(`Secret/${o.spec.secretName}`);
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
    if (o.kind === "Ingress") {
      const backends = [o.spec?.defaultBackend, ...(o.spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend))];
      for (const b of backends.filter((b) => b?.service)) {
        const svc = objects.find((x) => x.kind === "Service" && x.metadata?.name === b.service.name);
        const want = b.service.port?.name ?? b.service.port?.number;
        if (!svc) errors.push(`${id}: backend Service/${b.service.name} is missing`);
        else if (!(svc.spec?.ports ?? []).some((p) => p.name === want || p.port === want)) {
          errors.push(`${id}: backend Service/${b.service.name} has no port ${want}`);
        }
      }
      for (const t of o.spec?.tls ?? []) {
        if (t.secretName && !have.has(`Secret/${t.secretName}`)) errors.push(`${id}: TLS Secret/${t.secretName} is missing`);
      }
    }
  }
  errors.push(...reachability(objects, pods, namespace));
  errors.push(...grpcBalancing(objects, pods, namespace));
  errors.push(...tlsChecks(objects, pods, have, namespace));
  return errors;
}

async function validateFile(file, external, namespace) {
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
  errors.push(...crossChecks(objects, external, namespace));
  return { count: objects.length, errors };
}

const args = process.argv.slice(2);
const external = new Set();
const files = [];
let namespace = "default";
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--external" && i + 1 < args.length) external.add(args[++i]);
  else if (args[i] === "--namespace" && i + 1 < args.length) namespace = args[++i];
  else if (args[i].startsWith("--")) {
    console.error(`validate: unknown option ${args[i]}`);
    process.exit(2);
  } else files.push(args[i]);
}
if (files.length === 0) {
  console.error("usage: node validate.mjs [--external Kind/name]... [--namespace NS] FILE...");
  process.exit(2);
}
let failed = false;
for (const file of files) {
  const { count, errors } = await validateFile(file, external, namespace);
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
