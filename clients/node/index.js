// Node.js client for Stratus's gRPC API, on @grpc/grpc-js with the service definitions loaded
// from proto/stratus/v1 by @grpc/proto-loader (field names in lowerCamelCase, int64 as strings,
// enums as their names, bytes as Buffers).
//
//   const { Client } = require('stratus-client');
//   const client = new Client('localhost:50052');
//   const res = await client.unary('detector', 'AnalyzeFaces', { image: { bytes } });
//   client.close();
//
// - new Client(target, options): one channel, a stub per service (client.detector,
//   client.recognition, client.mask, client.sentiment, client.ingest; each service listens on
//   its own port, see PORTS);
// - the API key as `authorization: Bearer <key>` metadata on every call: options.apiKey ('' for
//   none), else $STRATUS_API_KEY, else the `stratus_api_key` entry of profile [stratus] in the
//   credentials file the CLI reads ($STRATUS_CREDENTIALS_FILE, default var/credentials);
// - TLS as the CLI does it (loadTls): trusting $STRATUS_TLS_CA, else the CA of a
//   `stratus up --tls` of the data dir ($STRATUS_DATA_DIR, default var), presenting
//   $STRATUS_TLS_CLIENT_CERT / $STRATUS_TLS_CLIENT_KEY to services that require client
//   certificates; plaintext when there is no CA;
// - a service config that retries UNAVAILABLE (at most 3 attempts);
// - errorInfo(err): the ErrorInfo (AWS exception name in `reason`) a service attached to an error.
// The protos come from $STRATUS_PROTO_DIR, else the package's proto/ (copied in by `npm pack`),
// else the repository's proto/ beside clients/.
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const PORTS = { ingest: 50051, detector: 50052, recognition: 50053, mask: 50054, sentiment: 50055 };
const SERVICES = {
  detector: 'DetectorService',
  recognition: 'RecognitionService',
  mask: 'MaskService',
  sentiment: 'SentimentService',
  ingest: 'IngestService',
};
const SERVICE_CONFIG = JSON.stringify({
  methodConfig: [{
    name: Object.values(SERVICES).map((s) => ({ service: `stratus.v1.${s}` })),
    retryPolicy: {
      maxAttempts: 3,
      initialBackoff: '0.2s',
      maxBackoff: '2s',
      backoffMultiplier: 2,
      retryableStatusCodes: ['UNAVAILABLE'],
    },
  }],
});

function protoDir() {
  const candidates = [process.env.STRATUS_PROTO_DIR, path.join(__dirname, 'proto'),
    path.join(__dirname, '..', '..', 'proto')].filter(Boolean);
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'stratus', 'v1', 'common.proto'))) return dir;
  }
  throw new Error(`stratus-client: no proto/stratus/v1 in ${candidates.join(', ')} (set STRATUS_PROTO_DIR)`);
}

let cached = null;
// The loaded stratus.v1 package (service constructors) and a protobufjs root (for details).
function protos() {
  if (cached) return cached;
  const dir = protoDir();
  const files = fs.readdirSync(path.join(dir, 'stratus', 'v1'))
    .filter((f) => f.endsWith('.proto')).map((f) => path.join('stratus', 'v1', f));
  const definition = protoLoader.loadSync(files, {
    includeDirs: [dir], longs: String, enums: String, defaults: true, oneofs: true,
  });
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    for (const base of [dir, path.join(path.dirname(require.resolve('protobufjs')))]) {
      const p = path.join(base, target);
      if (fs.existsSync(p)) return p;
    }
    return protobuf.util.path.resolve(origin, target);
  };
  root.loadSync([path.join('stratus', 'v1', 'common.proto'), path.join('google', 'rpc', 'status.proto'),
    path.join('google', 'rpc', 'error_details.proto')], { keepCase: false });
  cached = { v1: grpc.loadPackageDefinition(definition).stratus.v1, root };
  return cached;
}

// A minimal INI reader for the AWS-style credentials file: [profile] sections, key = value.
function readIni(text) {
  const sections = {};
  let current = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = line.match(/^\[(.+)\]$/);
    if (header) {
      current = header[1].trim();
      sections[current] = sections[current] || {};
      continue;
    }
    const eq = line.indexOf('=');
    if (current !== null && eq > 0) sections[current][line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return sections;
}

// The API key to send, or null: $STRATUS_API_KEY, else `stratus_api_key` in [profile] of the
// credentials file. A missing file, profile or entry is not an error.
function loadApiKey({ file, profile = 'stratus' } = {}) {
  if (process.env.STRATUS_API_KEY) return process.env.STRATUS_API_KEY;
  const where = file || process.env.STRATUS_CREDENTIALS_FILE || path.join('var', 'credentials');
  let text;
  try {
    text = fs.readFileSync(where, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') return null;
    throw e;
  }
  const key = (readIni(text)[profile] || {}).stratus_api_key;
  return key ? key : null;
}

function readPem(file, what) {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new Error(`stratus-client: cannot read the ${what} ${file}: ${e.message}`);
  }
}

// The client TLS the CLI would use, as PEM Buffers { ca, cert, key } (cert and key null
// without a client certificate), or null when there is no CA to trust (plaintext). The CA is
// $STRATUS_TLS_CA, else <data dir>/tls/ca.pem when <data dir>/tls/enabled exists (`stratus up
// --tls` writes both; data dir $STRATUS_DATA_DIR, default var); the client certificate and key
// are $STRATUS_TLS_CLIENT_CERT and $STRATUS_TLS_CLIENT_KEY (both or neither). A file that
// cannot be read throws an Error naming it.
function loadTls() {
  let ca = process.env.STRATUS_TLS_CA;
  if (!ca) {
    const dir = path.join(process.env.STRATUS_DATA_DIR || 'var', 'tls');
    if (fs.existsSync(path.join(dir, 'enabled')) && fs.existsSync(path.join(dir, 'ca.pem'))) {
      ca = path.join(dir, 'ca.pem');
    }
  }
  if (!ca) return null;
  const cert = process.env.STRATUS_TLS_CLIENT_CERT;
  const key = process.env.STRATUS_TLS_CLIENT_KEY;
  if (!cert !== !key) {
    throw new Error('stratus-client: set both STRATUS_TLS_CLIENT_CERT and STRATUS_TLS_CLIENT_KEY, or neither');
  }
  return {
    ca: readPem(ca, 'TLS CA'),
    cert: cert ? readPem(cert, 'client certificate') : null,
    key: key ? readPem(key, 'client key') : null,
  };
}

// The channel credentials for options.tls (undefined: TLS when rootCerts is given or loadTls()
// finds a CA; true: TLS, the system roots unless a CA is given or found; false: plaintext) and
// the PEM Buffers options.rootCerts, certChain, privateKey, which take the place of what
// loadTls() finds.
function channelCredentials(options) {
  if (options.tls === false) return grpc.credentials.createInsecure();
  const found = loadTls() || {};
  const ca = options.rootCerts || found.ca;
  if (!options.tls && !ca) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(ca || null, options.privateKey || found.key || null,
    options.certChain || found.cert || null);
}

class Client {
  // options: apiKey (undefined: loadApiKey(); '' none), tls, rootCerts, certChain, privateKey
  // (see channelCredentials), channelOptions (extra gRPC channel arguments).
  constructor(target, options = {}) {
    const { v1 } = protos();
    const key = options.apiKey === undefined ? loadApiKey() : options.apiKey;
    const creds = channelCredentials(options);
    const channelOptions = { 'grpc.service_config': SERVICE_CONFIG, ...(options.channelOptions || {}) };
    if (key) {
      channelOptions.interceptors = [(callOptions, nextCall) => new grpc.InterceptingCall(nextCall(callOptions), {
        start(metadata, listener, next) {
          metadata.set('authorization', `Bearer ${key}`);
          next(metadata, listener);
        },
      })];
    }
    this.target = target;
    let channel = null;
    for (const [field, service] of Object.entries(SERVICES)) {
      const opts = channel ? { ...channelOptions, channelOverride: channel } : channelOptions;
      this[field] = new v1[service](target, creds, opts);
      channel = channel || this[field].getChannel();
    }
    this.channel = channel;
  }

  // Calls a unary method and resolves with its response. options.timeoutMs sets the deadline.
  unary(service, method, request, { timeoutMs = 30000, metadata } = {}) {
    const stub = this[service];
    if (!stub || typeof stub[method] !== 'function') {
      return Promise.reject(new Error(`no method ${service}.${method}`));
    }
    return new Promise((resolve, reject) => {
      stub[method](request, metadata || new grpc.Metadata(), { deadline: Date.now() + timeoutMs },
        (err, response) => (err ? reject(err) : resolve(response)));
    });
  }

  close() {
    for (const field of Object.keys(SERVICES)) this[field].close();
  }
}

// The google.rpc.ErrorInfo a Stratus service attached to a failed call ({reason, domain,
// metadata}), or null.
function errorInfo(err) {
  const values = err && err.metadata ? err.metadata.get('grpc-status-details-bin') : [];
  if (!values.length) return null;
  const { root } = protos();
  const status = root.lookupType('google.rpc.Status').decode(values[0]);
  const ErrorInfo = root.lookupType('google.rpc.ErrorInfo');
  for (const any of status.details) {
    if (any.type_url === 'type.googleapis.com/google.rpc.ErrorInfo' ||
        any.typeUrl === 'type.googleapis.com/google.rpc.ErrorInfo') {
      return ErrorInfo.toObject(ErrorInfo.decode(any.value), { defaults: true });
    }
  }
  return null;
}

module.exports = { Client, PORTS, loadApiKey, loadTls, errorInfo, grpc };
