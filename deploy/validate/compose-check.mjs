// Checks what `docker-compose config` cannot: that the resolved compose file, the Prometheus
// configuration and the Grafana provisioning fit together.
//  - every Stratus service has a health check on its own /readyz, and only ingest, recognition,
//    sentiment and the console get the database URL (pointing at the compose PostgreSQL); only
//    the model-using services mount /models; every service mounts the API keys file it is
//    given (STRATUS_API_KEYS_FILE); ingest's spool is on a volume;
//  - the console calls every service's gRPC port, scrapes every service's HTTP port for its
//    cost page, has no API key of its own and no one-time login token (users log in with a key);
//  - PostgreSQL keeps its data in a named volume; the CUDA detector sits behind the `gpu`
//    profile with an NVIDIA GPU reserved;
//  - Prometheus scrapes every service's HTTP port;
//  - only the public endpoints are published beyond loopback;
//  - the Grafana dashboard parses, uses the provisioned datasource, queries only metrics the
//    services export, and its PromQL is written to RULES_OUT for `promtool check rules`;
//  - Prometheus is given PROMETHEUS.yml as its configuration;
//  - TLS: with --tls (docker-compose.tls.yml merged in) every Stratus service has
//    STRATUS_TLS_CERT, _KEY and _CA, each file mounted read-only (and STRATUS_TLS_CLIENT_CA, when
//    set), health checks on https://localhost:<port>/readyz with --cacert of a mounted CA; the
//    console's cookies are Secure; Prometheus scrapes every Stratus job over https with a
//    tls_config.ca_file mounted into it; no CA key is mounted anywhere. Without --tls, no
//    service has TLS settings, health checks and scrapes are http.
//
// usage: node compose-check.mjs [--tls] RESOLVED_COMPOSE.yaml PROMETHEUS.yml GRAFANA_DIR RULES_OUT
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse, stringify } from "yaml";

const argv = process.argv.slice(2);
const tls = argv[0] === "--tls";
const [composeFile, promFile, grafanaDir, rulesOut] = tls ? argv.slice(1) : argv;
if (!rulesOut) {
  console.error("usage: node compose-check.mjs [--tls] RESOLVED_COMPOSE.yaml PROMETHEUS.yml GRAFANA_DIR RULES_OUT");
  process.exit(2);
}
const errors = [];
const compose = parse(readFileSync(composeFile, "utf8"));
const prom = parse(readFileSync(promFile, "utf8"));
const services = compose.services ?? {};

const STRATUS = {
  ingest: 8081, detector: 8082, recognition: 8083, mask: 8084, sentiment: 8085, console: 8086,
  "detector-gpu": 8082,
};
// gRPC ports of the services the console calls (STRATUS_<NAME>_ADDR) and scrapes.
const GRPC = { ingest: 50051, detector: 50052, recognition: 50053, mask: 50054, sentiment: 50055 };
const NEEDS_DB = new Set(["ingest", "recognition", "sentiment", "console"]);
const NEEDS_MODELS = new Set(["detector", "recognition", "mask", "sentiment"]);

function env(svc) {
  const e = svc.environment ?? {};
  if (Array.isArray(e)) return Object.fromEntries(e.map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
  return e;
}
// Volumes as {source, target, readOnly}: docker-compose 1.x prints the short syntax
// ("src:/target:ro"), v2 the long one.
function mounts(svc) {
  return (svc.volumes ?? []).map((v) => {
    if (typeof v !== "string") return { source: v.source, target: v.target, readOnly: !!v.read_only, type: v.type };
    const [source, target, mode] = v.split(":");
    return { source, target, readOnly: mode === "ro", type: /^[\w.-]+$/.test(source) && !source.startsWith(".") ? "volume" : "bind" };
  });
}
const TLS_FILES = ["STRATUS_TLS_CERT", "STRATUS_TLS_KEY", "STRATUS_TLS_CA"];

for (const [name, port] of Object.entries(STRATUS)) {
  const svc = services[name];
  if (!svc) {
    errors.push(`compose: service ${name} is missing`);
    continue;
  }
  const e = env(svc);
  if (String(e.STRATUS_HTTP_PORT) !== String(port)) errors.push(`compose: ${name} STRATUS_HTTP_PORT is not ${port}`);
  const testArgs = [].concat(svc.healthcheck?.test ?? []);
  const test = testArgs.join(" ");
  const scheme = tls ? "https" : "http";
  if (!test.includes(`${scheme}://localhost:${port}/readyz`)) {
    errors.push(`compose: ${name} has no health check on its ${scheme}://localhost:${port}/readyz`);
  }
  const ro = mounts(svc).filter((m) => m.readOnly).map((m) => m.target);
  if (tls) {
    for (const key of [...TLS_FILES, "STRATUS_TLS_CLIENT_CA"]) {
      if (!e[key]) {
        if (key !== "STRATUS_TLS_CLIENT_CA") errors.push(`compose: ${name} has no ${key}`);
      } else if (!ro.includes(e[key])) {
        errors.push(`compose: ${name} does not mount its ${key} ${e[key]} read-only`);
      }
    }
    const ca = testArgs[testArgs.indexOf("--cacert") + 1];
    if (!testArgs.includes("--cacert") || !ro.includes(ca)) {
      errors.push(`compose: ${name}'s health check does not trust a mounted CA (curl --cacert)`);
    }
    if (name === "console" && String(e.STRATUS_CONSOLE_SECURE_COOKIES) !== "true") {
      errors.push("compose: console serves TLS but STRATUS_CONSOLE_SECURE_COOKIES is not true");
    }
  } else {
    for (const key of [...TLS_FILES, "STRATUS_TLS_CLIENT_CA"]) {
      if (e[key]) errors.push(`compose: ${name} sets ${key} (TLS belongs in docker-compose.tls.yml)`);
    }
  }
  const base = name.replace(/-gpu$/, "");
  if (NEEDS_DB.has(base)) {
    if (!/^postgresql:\/\/[^@]+@postgres:5432\//.test(e.STRATUS_DATABASE_URL ?? "")) {
      errors.push(`compose: ${name} has no STRATUS_DATABASE_URL to the compose PostgreSQL`);
    }
    if (svc.depends_on?.postgres?.condition !== "service_healthy") {
      errors.push(`compose: ${name} does not wait for a healthy PostgreSQL`);
    }
  } else if (e.STRATUS_DATABASE_URL) {
    errors.push(`compose: ${name} gets a database URL it does not need`);
  }
  const mounted = (svc.volumes ?? []).map((v) => v.target ?? String(v).split(":")[1]);
  if (NEEDS_MODELS.has(base) !== mounted.includes("/models")) {
    errors.push(`compose: ${name} ${NEEDS_MODELS.has(base) ? "does not mount" : "mounts"} the model repository at /models`);
  }
  // A service refuses to start with a keys file it cannot read.
  if (!e.STRATUS_API_KEYS_FILE) errors.push(`compose: ${name} has no STRATUS_API_KEYS_FILE`);
  else if (!mounted.includes(e.STRATUS_API_KEYS_FILE)) {
    errors.push(`compose: ${name} does not mount its API keys file ${e.STRATUS_API_KEYS_FILE}`);
  }
  if (base === "ingest") {
    for (const key of ["STRATUS_SPOOL_DIR", "STRATUS_SNAPSHOT_DIR"]) {
      if (!e[key] || !mounted.some((m) => e[key].startsWith(`${m}/`))) {
        errors.push(`compose: ingest ${key} is not on a volume (the root filesystem is read-only)`);
      }
    }
  }
  const jobs = (prom.scrape_configs ?? []).filter((j) => (j.static_configs ?? []).some((s) => (s.targets ?? []).includes(`${name}:${port}`)));
  if (!jobs.length) errors.push(`prometheus: nothing scrapes ${name}:${port}`);
  for (const j of jobs) {
    if ((j.scheme ?? "http") !== scheme) errors.push(`prometheus: job ${j.job_name} scrapes ${name}:${port} over ${j.scheme ?? "http"}, not ${scheme}`);
    if (tls) {
      const caFile = j.tls_config?.ca_file;
      const promMounts = mounts(services.prometheus ?? {}).filter((m) => m.readOnly).map((m) => m.target);
      if (!caFile || !promMounts.includes(caFile)) {
        errors.push(`prometheus: job ${j.job_name} has no tls_config.ca_file mounted into the prometheus container`);
      }
    }
  }
}
// Prometheus runs the configuration checked here.
{
  const cfg = mounts(services.prometheus ?? {}).find((m) => m.target === "/etc/prometheus/prometheus.yml");
  if (!cfg || basename(cfg.source ?? "") !== basename(promFile)) {
    errors.push(`compose: prometheus is not given ${basename(promFile)} as /etc/prometheus/prometheus.yml`);
  }
}
// The CA's key stays on the host.
for (const [name, svc] of Object.entries(services)) {
  for (const m of mounts(svc)) {
    if (/(^|\/)ca\.key$/.test(m.source ?? "") || /(^|\/)ca\.key$/.test(m.target ?? "")) {
      errors.push(`compose: ${name} mounts a CA key (${m.source})`);
    }
  }
}

const con = services.console;
if (con) {
  const e = env(con);
  // The detector may be the gpu profile's (STRATUS_DETECTOR=detector-gpu), as for ingest.
  const detector = String(env(services.ingest ?? {}).STRATUS_DETECTOR_ADDR ?? "detector:50052").split(":")[0];
  const scrape = new Map(String(e.STRATUS_CONSOLE_SCRAPE ?? "").split(",").filter(Boolean)
    .map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
  for (const [name, port] of Object.entries(GRPC)) {
    const host = name === "detector" ? detector : name;
    const addr = `STRATUS_${name.toUpperCase()}_ADDR`;
    if (e[addr] !== `${host}:${port}`) errors.push(`compose: console ${addr} is not ${host}:${port}`);
    if (scrape.get(name) !== `${host}:${STRATUS[name]}`) {
      errors.push(`compose: console STRATUS_CONSOLE_SCRAPE has no ${name}=${host}:${STRATUS[name]}`);
    }
    if (name !== "detector" && !con.depends_on?.[name]) errors.push(`compose: console does not depend on ${name}`);
  }
  for (const key of ["STRATUS_API_KEY", "STRATUS_CONSOLE_LOGIN_TOKEN", "STRATUS_CONSOLE_LOGIN_KEY"]) {
    if (e[key]) errors.push(`compose: console sets ${key} (its calls carry the session's key; users log in with one)`);
  }
}

const pg = services.postgres;
if (!pg) errors.push("compose: service postgres is missing");
else {
  const data = mounts(pg).find((v) => v.target === "/var/lib/postgresql/data");
  if (!data || data.type !== "volume" || !(data.source in (compose.volumes ?? {}))) {
    errors.push("compose: postgres does not keep /var/lib/postgresql/data in a named volume");
  }
}

const gpu = services["detector-gpu"];
if (gpu) {
  if (!(gpu.profiles ?? []).includes("gpu")) errors.push("compose: detector-gpu is not behind the gpu profile");
  const devices = gpu.deploy?.resources?.reservations?.devices ?? [];
  if (!devices.some((d) => d.driver === "nvidia" && (d.capabilities ?? []).includes("gpu"))) {
    errors.push("compose: detector-gpu reserves no NVIDIA GPU");
  }
}
for (const name of ["prometheus", "grafana"]) if (!services[name]) errors.push(`compose: service ${name} is missing`);

// Only the public endpoints are published on every interface; anything else at most on loopback.
const PUBLIC = { ingest: [50051], recognition: [50053, 8083], sentiment: [50055, 8085], grafana: [3000] };
for (const [name, svc] of Object.entries(services)) {
  for (const p of svc.ports ?? []) {
    let published, hostIp;
    if (typeof p === "object") {
      published = Number(p.published);
      hostIp = p.host_ip ?? "";
    } else {
      const parts = String(p).replace(/\/\w+$/, "").split(":");
      published = Number(parts.length > 1 ? parts[parts.length - 2] : parts[0]);
      hostIp = parts.length > 2 ? parts[0] : "";
    }
    if (hostIp === "127.0.0.1" || hostIp === "::1") continue;
    if (!(PUBLIC[name] ?? []).includes(published)) {
      errors.push(`compose: ${name} publishes port ${published}, which is not a public endpoint`);
    }
  }
}

// Grafana: datasource uid, dashboards, metrics.
const dsDir = join(grafanaDir, "provisioning", "datasources");
const uids = new Set();
for (const f of readdirSync(dsDir)) {
  for (const ds of parse(readFileSync(join(dsDir, f), "utf8")).datasources ?? []) uids.add(ds.uid);
}
const KNOWN = [
  "stratus_rpc_requests_total", "stratus_rpc_duration_seconds_bucket",
  "stratus_detector_batch_size_bucket", "stratus_detector_batch_size_sum", "stratus_detector_batch_size_count",
  "stratus_detector_queue_depth", "stratus_detector_inference_seconds_bucket", "process_cpu_seconds_total",
  "stratus_ingest_frames_total", "stratus_ingest_events_total", "stratus_sentiment_results_total",
  "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE",
];
const rules = [];
const dashDir = join(grafanaDir, "dashboards");
for (const f of readdirSync(dashDir).filter((f) => f.endsWith(".json"))) {
  let dash;
  try {
    dash = JSON.parse(readFileSync(join(dashDir, f), "utf8"));
  } catch (e) {
    errors.push(`grafana: ${f}: ${e.message}`);
    continue;
  }
  if (!dash.uid || !dash.title) errors.push(`grafana: ${f}: no uid or title`);
  const ids = new Set();
  for (const p of dash.panels ?? []) {
    if (ids.has(p.id)) errors.push(`grafana: ${f}: panel id ${p.id} twice`);
    ids.add(p.id);
    if (p.type === "row") continue;
    if (!uids.has(p.datasource?.uid)) errors.push(`grafana: ${f}: panel "${p.title}" uses unknown datasource ${p.datasource?.uid}`);
    if (!(p.targets ?? []).length) errors.push(`grafana: ${f}: panel "${p.title}" has no query`);
    for (const t of p.targets ?? []) {
      const metrics = (t.expr.match(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*[{\[)])/g) ?? [])
        .filter((m) => /^(stratus_|process_|DCGM_)/.test(m));
      if (!metrics.length) errors.push(`grafana: ${f}: "${p.title}" queries no Stratus metric`);
      for (const m of metrics) if (!KNOWN.includes(m)) errors.push(`grafana: ${f}: "${p.title}" queries unknown metric ${m}`);
      // Grafana's variables, replaced by what they expand to, for promtool.
      const expr = t.expr.replaceAll("$__rate_interval", "1m").replace(/\$(service|stream|topic)/g, ".*");
      rules.push({ record: `dashboard:${f.replace(/\W/g, "_")}:${p.id}_${t.refId}`, expr });
    }
  }
}
writeFileSync(rulesOut, stringify({ groups: [{ name: "dashboard-queries", rules }] }));

if (errors.length) {
  for (const e of errors) console.log(`  ${e}`);
  console.log(`compose-check: ${errors.length} problem(s)`);
  process.exit(1);
}
console.log(`compose-check: ${Object.keys(services).length} compose services, ${rules.length} dashboard queries consistent`);
