// Tests of the Node client: the README's example against a real detector service
// (stratus-fake-detector, answering from the face-api reference outputs), the error reason, and
// the API key and the retry policy against an in-process @grpc/grpc-js server, and TLS from the
// environment (mTLS, certificates made with openssl) against another.
// Environment (ctest sets it): STRATUS_FAKE_DETECTOR, STRATUS_SHARED_DIR. Run by test/run.sh.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const here = path.join(__dirname, '..');
const { Client, loadApiKey, loadTls, errorInfo, grpc } = require(here);
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');
const protoRoot = process.env.STRATUS_PROTO_DIR || path.join(here, '..', '..', 'proto');

const shared = process.env.STRATUS_SHARED_DIR || path.join(here, '..', '..', '..', 'shared');
const golden = path.join(shared, 'golden', 'faceapi');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stratus-nodeclient-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

// A fresh API key `stk_<id>_<secret>` and its line for an --api-keys-file.
function makeKey(id) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let secret = '';
  for (let i = 0; i < 32; i += 1) secret += alphabet[crypto.randomInt(alphabet.length)];
  const key = `stk_${id}_${secret}`;
  const hash = crypto.createHash('sha256').update(key).digest('hex');
  return { key, line: `${id} ${hash} *:read node client test` };
}

function withoutKeyEnv(fn) {
  return async () => {
    const saved = { k: process.env.STRATUS_API_KEY, f: process.env.STRATUS_CREDENTIALS_FILE };
    delete process.env.STRATUS_API_KEY;
    delete process.env.STRATUS_CREDENTIALS_FILE;
    try {
      await fn();
    } finally {
      for (const [name, v] of [['STRATUS_API_KEY', saved.k], ['STRATUS_CREDENTIALS_FILE', saved.f]]) {
        if (v === undefined) delete process.env[name]; else process.env[name] = v;
      }
    }
  };
}

test.describe('against stratus-fake-detector', () => {
  const binary = process.env.STRATUS_FAKE_DETECTOR;
  const skip = !binary || !fs.existsSync(binary) ? 'STRATUS_FAKE_DETECTOR is not the built binary'
    : !fs.existsSync(path.join(golden, 'sample1.png')) ? `no reference outputs in ${golden}` : false;
  let proc;
  let target;
  const { key, line } = makeKey('nodeclientts');

  test.before(async () => {
    if (skip) return;
    const port = await freePort();
    target = `127.0.0.1:${port}`;
    const keysFile = path.join(tmp, 'api-keys');
    fs.writeFileSync(keysFile, `${line}\n`);
    proc = childProcess.spawn(binary, ['--grpc-port', String(port), '--golden-dir', golden,
      '--api-keys-file', keysFile], { stdio: 'ignore' });
    const probe = new Client(target, { apiKey: key });
    await new Promise((resolve, reject) => probe.detector.waitForReady(Date.now() + 30000,
      (err) => (err ? reject(err) : resolve())));
    probe.close();
  });
  test.after(() => proc && proc.kill('SIGTERM'));

  test('the README example prints the faces', { skip }, () => {
    const readme = fs.readFileSync(path.join(here, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.strictEqual(blocks.length, 1, 'the README has one js example');
    // `require('stratus-client')` resolves to this folder through NODE_PATH.
    const modules = path.join(tmp, 'modules');
    fs.mkdirSync(modules, { recursive: true });
    fs.symlinkSync(here, path.join(modules, 'stratus-client'));
    const script = path.join(tmp, 'example.js');
    fs.writeFileSync(script, blocks[0]);
    const out = childProcess.execFileSync(process.execPath,
      [script, target, path.join(golden, 'sample1.png')], {
        encoding: 'utf8',
        env: { ...process.env, STRATUS_API_KEY: key, NODE_PATH: `${modules}:${process.env.NODE_PATH || ''}` },
      });
    const got = out.trim().split('\n').map((l) => l.split(/\s+/).map(Number));
    const want = JSON.parse(fs.readFileSync(path.join(golden, 'sample1.json'), 'utf8')).ssdMobilenetv1
      .filter((f) => f.detection.score >= 0.5)
      .map((f) => [f.detection.score, f.detection.relativeBox.x, f.detection.relativeBox.y,
        f.detection.relativeBox.width, f.detection.relativeBox.height])
      .sort((a, b) => b[3] * b[4] - a[3] * a[4]);
    assert.ok(want.length > 0);
    assert.strictEqual(got.length, want.length, out);
    got.forEach((g, i) => g.forEach((v, j) => assert.ok(Math.abs(v - want[i][j]) < 1e-3, `${out}`)));
  });

  test('a bad image is INVALID_ARGUMENT', { skip }, async () => {
    const client = new Client(target, { apiKey: key });
    await assert.rejects(client.unary('detector', 'AnalyzeFaces', { image: { bytes: Buffer.from('not an image') } }),
      (err) => {
        assert.strictEqual(err.code, grpc.status.INVALID_ARGUMENT);
        // The fake attaches no ErrorInfo (the real detector does; see the in-process tests).
        assert.strictEqual(errorInfo(err), null);
        return true;
      });
    client.close();
  });

  test('a missing or unknown key is UNAUTHENTICATED', { skip }, async () => {
    for (const [apiKey, says] of [['', 'missing API key'], [makeKey('nodeclientno').key, 'unknown API key']]) {
      const client = new Client(target, { apiKey });
      await assert.rejects(client.unary('detector', 'ListModels', {}), (err) => {
        assert.strictEqual(err.code, grpc.status.UNAUTHENTICATED);
        assert.ok(err.details.includes(says), err.details);
        return true;
      });
      client.close();
    }
  });
});

test.describe('against an in-process server', () => {
  let server;
  let target;
  const seen = [];
  let unavailableLeft = 0;

  test.before(async () => {
    const def = protoLoader.loadSync('stratus/v1/detector.proto', { includeDirs: [protoRoot] });
    const v1 = grpc.loadPackageDefinition(def).stratus.v1;
    server = new grpc.Server();
    server.addService(v1.DetectorService.service, {
      ListModels(call, callback) {
        seen.push(call.metadata.get('authorization')[0]);
        if (unavailableLeft > 0) {
          unavailableLeft -= 1;
          callback({ code: grpc.status.UNAVAILABLE, details: 'warming up' });
          return;
        }
        callback(null, {});
      },
      AnalyzeFaces(call, callback) {
        // What common/status.cc's ToGrpcStatus sends: a google.rpc.Status holding an ErrorInfo.
        const root = new protobuf.Root();
        root.resolvePath = (origin, file) => {
          const own = path.join(protoRoot, file);
          return fs.existsSync(own) ? own : path.join(path.dirname(require.resolve('protobufjs')), file);
        };
        root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
        const ErrorInfo = root.lookupType('google.rpc.ErrorInfo');
        const Status = root.lookupType('google.rpc.Status');
        const details = Status.encode(Status.create({
          code: 3,
          message: 'bad image',
          details: [{
            type_url: 'type.googleapis.com/google.rpc.ErrorInfo',
            value: ErrorInfo.encode(ErrorInfo.create({ reason: 'InvalidImageFormatException', domain: 'stratus', metadata: { field: 'image' } })).finish(),
          }],
        })).finish();
        const metadata = new grpc.Metadata();
        metadata.set('grpc-status-details-bin', Buffer.from(details));
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'bad image', metadata });
      },
      DetectStream(call) {
        seen.push(call.metadata.get('authorization')[0]);
        call.on('data', (r) => call.write({ sequence: r.sequence }));
        call.on('end', () => call.end());
      },
    });
    const port = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0',
      grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    target = `127.0.0.1:${port}`;
  });
  test.after(() => server.forceShutdown());

  async function call(options) {
    seen.length = 0;
    const client = new Client(target, options);
    await client.unary('detector', 'ListModels', {});
    const replies = await new Promise((resolve, reject) => {
      const stream = client.detector.DetectStream();
      const got = [];
      stream.on('data', (r) => got.push(r.sequence));
      stream.on('end', () => resolve(got));
      stream.on('error', reject);
      stream.write({ sequence: '7' });
      stream.end();
    });
    assert.deepStrictEqual(replies, ['7']);
    client.close();
    return [...seen];
  }

  test('the key from the credentials file is sent on unary and streaming calls', withoutKeyEnv(async () => {
    const file = path.join(tmp, 'credentials-file');
    fs.writeFileSync(file, '[stratus]\naws_access_key_id = AKIAEXAMPLE\nstratus_api_key = sk-file-123\n');
    process.env.STRATUS_CREDENTIALS_FILE = file;
    assert.deepStrictEqual(await call(), ['Bearer sk-file-123', 'Bearer sk-file-123']);
  }));

  test('the environment and the argument take precedence', withoutKeyEnv(async () => {
    const file = path.join(tmp, 'credentials-env');
    fs.writeFileSync(file, '[stratus]\nstratus_api_key = sk-file\n');
    process.env.STRATUS_CREDENTIALS_FILE = file;
    process.env.STRATUS_API_KEY = 'sk-env';
    assert.deepStrictEqual(await call(), ['Bearer sk-env', 'Bearer sk-env']);
    assert.deepStrictEqual(await call({ apiKey: 'sk-arg' }), ['Bearer sk-arg', 'Bearer sk-arg']);
    assert.deepStrictEqual(await call({ apiKey: '' }), [undefined, undefined]);
  }));

  test('no key without file, profile or entry', withoutKeyEnv(async () => {
    assert.strictEqual(loadApiKey({ file: path.join(tmp, 'missing') }), null);
    const file = path.join(tmp, 'credentials-other');
    fs.writeFileSync(file, '[default]\nstratus_api_key = other\n');
    assert.strictEqual(loadApiKey({ file }), null);
    assert.strictEqual(loadApiKey({ file, profile: 'default' }), 'other');
    process.env.STRATUS_CREDENTIALS_FILE = file;
    assert.deepStrictEqual(await call(), [undefined, undefined]);
  }));

  test('errorInfo decodes the status details', async () => {
    const client = new Client(target, { apiKey: '' });
    await assert.rejects(client.unary('detector', 'AnalyzeFaces', {}), (err) => {
      assert.strictEqual(err.code, grpc.status.INVALID_ARGUMENT);
      assert.deepStrictEqual(errorInfo(err), { reason: 'InvalidImageFormatException', domain: 'stratus', metadata: { field: 'image' } });
      return true;
    });
    client.close();
  });

  test('UNAVAILABLE is retried', withoutKeyEnv(async () => {
    unavailableLeft = 2;
    const keys = await call({ apiKey: '' });
    assert.strictEqual(keys.length, 4); // three ListModels attempts, one DetectStream
  }));
});

// A CA, a server certificate for localhost and 127.0.0.1 and a client certificate, all signed
// by the CA, made with openssl; returns { name: path }.
function makePki(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const f = (name) => path.join(dir, name);
  const openssl = (...args) => childProcess.execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=test CA');
  fs.writeFileSync(f('ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const who of ['server', 'client']) {
    openssl('req', ...ec, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${who}`);
    openssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'),
      '-CAcreateserial', '-out', f(`${who}.pem`), '-days', '2', '-extfile', f('ext'));
  }
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}

test.describe('TLS from the environment, against a server that requires client certificates', () => {
  const variables = ['STRATUS_TLS_CA', 'STRATUS_TLS_CLIENT_CERT', 'STRATUS_TLS_CLIENT_KEY', 'STRATUS_DATA_DIR'];
  let server;
  let target;
  let pki;
  const saved = {};

  test.before(async () => {
    pki = makePki(path.join(tmp, 'pki'));
    const def = protoLoader.loadSync('stratus/v1/detector.proto', { includeDirs: [protoRoot] });
    const v1 = grpc.loadPackageDefinition(def).stratus.v1;
    server = new grpc.Server();
    server.addService(v1.DetectorService.service, {
      ListModels(call, callback) {
        const peer = call.getAuthContext().sslPeerCertificate;
        callback(null, { models: [{ name: peer ? peer.subject.CN : '' }] });
      },
    });
    const creds = grpc.ServerCredentials.createSsl(fs.readFileSync(pki.ca),
      [{ private_key: fs.readFileSync(pki.serverKey), cert_chain: fs.readFileSync(pki.serverCert) }], true);
    const port = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', creds,
      (err, p) => (err ? reject(err) : resolve(p))));
    target = `localhost:${port}`;
  });
  test.after(() => server.forceShutdown());
  test.beforeEach(() => {
    for (const v of variables) {
      saved[v] = process.env[v];
      delete process.env[v];
    }
  });
  test.afterEach(() => {
    for (const v of variables) {
      if (saved[v] === undefined) delete process.env[v]; else process.env[v] = saved[v];
    }
  });

  async function modelNames(options = {}) {
    const client = new Client(target, { apiKey: '', ...options });
    try {
      const reply = await client.unary('detector', 'ListModels', {}, { timeoutMs: 10000 });
      return reply.models.map((m) => m.name);
    } finally {
      client.close();
    }
  }
  function clientCertificateFromEnvironment() {
    process.env.STRATUS_TLS_CLIENT_CERT = pki.clientCert;
    process.env.STRATUS_TLS_CLIENT_KEY = pki.clientKey;
  }
  const unavailable = (err) => {
    assert.strictEqual(err.code, grpc.status.UNAVAILABLE);
    return true;
  };

  test('the CA and the client certificate come from the environment', async () => {
    process.env.STRATUS_TLS_CA = pki.ca;
    clientCertificateFromEnvironment();
    assert.deepStrictEqual(await modelNames(), ['client']); // the server saw our certificate
  });

  test('the CA of a `stratus up --tls` in the data dir, once tls/enabled is there', async () => {
    const data = path.join(tmp, 'data-dir');
    fs.mkdirSync(path.join(data, 'tls'), { recursive: true });
    fs.copyFileSync(pki.ca, path.join(data, 'tls', 'ca.pem'));
    process.env.STRATUS_DATA_DIR = data;
    clientCertificateFromEnvironment();
    await assert.rejects(modelNames(), unavailable); // plaintext, refused by the TLS server
    fs.writeFileSync(path.join(data, 'tls', 'enabled'), '');
    assert.deepStrictEqual(await modelNames(), ['client']);
  });

  test('without a client certificate the handshake fails', async () => {
    process.env.STRATUS_TLS_CA = pki.ca;
    await assert.rejects(modelNames(), unavailable);
  });

  test('options take the place of the environment', async () => {
    process.env.STRATUS_TLS_CA = pki.ca;
    clientCertificateFromEnvironment();
    await assert.rejects(modelNames({ tls: false }), unavailable);
    for (const v of variables) delete process.env[v];
    assert.deepStrictEqual(await modelNames({
      rootCerts: fs.readFileSync(pki.ca), certChain: fs.readFileSync(pki.clientCert), privateKey: fs.readFileSync(pki.clientKey),
    }), ['client']);
  });

  test('unreadable or half-configured files are named', () => {
    process.env.STRATUS_TLS_CA = path.join(tmp, 'no-such-ca.pem');
    assert.throws(() => loadTls(), /TLS CA .*no-such-ca\.pem/);
    process.env.STRATUS_TLS_CA = pki.ca;
    process.env.STRATUS_TLS_CLIENT_CERT = pki.clientCert;
    assert.throws(() => loadTls(), /STRATUS_TLS_CLIENT_KEY/);
  });
});
