// End-to-end check of common/aws with the real AWS SDK for JavaScript v3:
//   node run.js /path/to/aws-endpoint-testserver
// Starts the test server with a credentials file it generates (as `stratus up` does on first
// start), points @aws-sdk/client-rekognition and @aws-sdk/client-comprehend at it through
// AWS_SHARED_CREDENTIALS_FILE + AWS_PROFILE=stratus, and checks that signed calls succeed and
// that wrong secrets, unknown keys and stale clocks fail with the SDK's error names.
// Exit status 0 only when every check passed; 1 otherwise, including when npm cannot install
// the SDK.
'use strict';

const assert = require('assert');
const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { cachedRequire } = require('../lib/npm_cache.js');

const serverBin = process.argv[2];
if (!serverBin || !fs.existsSync(serverBin)) {
  console.error(`usage: node run.js /path/to/aws-endpoint-testserver (got ${serverBin})`);
  process.exit(2);
}

const sdkRequire = cachedRequire(__dirname);
const rek = sdkRequire('@aws-sdk/client-rekognition');
const comprehend = sdkRequire('@aws-sdk/client-comprehend');

// x-amzn-RequestId is the request's trace id (32 hex digits; docs/observability.md).
const REQUEST_ID = /^[0-9a-f]{32}$/;

async function startServer(dir) {
  const portFile = path.join(dir, 'port');
  const child = childProcess.spawn(
      serverBin,
      ['--credentials-file', path.join(dir, 'credentials'), '--port-file', portFile,
       '--address', '127.0.0.1'],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, AWS_ACCESS_KEY_ID: '',
                                                       AWS_SECRET_ACCESS_KEY: '' } });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 100; i++) {
    if (fs.existsSync(portFile)) {
      return { child, exited, port: Number(fs.readFileSync(portFile, 'utf8').trim()) };
    }
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  throw new Error('server did not write its port within 10 s');
}

async function expectError(promise, name, status, messagePart) {
  try {
    await promise;
  } catch (e) {
    assert.strictEqual(e.name, name, `error name: ${e.name}: ${e.message}`);
    if (status) assert.strictEqual(e.$metadata.httpStatusCode, status);
    if (messagePart) assert.ok(e.message.includes(messagePart), `message: ${e.message}`);
    assert.match(e.$metadata.requestId || '', REQUEST_ID);
    return e;
  }
  throw new Error(`expected ${name}, the call succeeded`);
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stratus-e2e-sigv4-'));
  const server = await startServer(dir);
  const endpoint = `http://127.0.0.1:${server.port}`;
  // The user's flow from the recognition issue: only these variables and the endpoint.
  delete process.env.AWS_ACCESS_KEY_ID;
  delete process.env.AWS_SECRET_ACCESS_KEY;
  delete process.env.AWS_SESSION_TOKEN;
  process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
  process.env.AWS_CONFIG_FILE = path.join(dir, 'no-config');
  process.env.AWS_PROFILE = 'stratus';
  const keyId = /aws_access_key_id = (\S+)/.exec(fs.readFileSync(path.join(dir, 'credentials'),
                                                                 'utf8'))[1];

  const results = [];
  async function check(name, fn) {
    try {
      await fn();
      results.push([name, true]);
      console.log(`ok   ${name}`);
    } catch (e) {
      results.push([name, false]);
      console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
    }
  }
  const base = { endpoint, region: 'us-east-1' };

  await check('signed ListCollections succeeds and echoes the request', async () => {
    const client = new rek.RekognitionClient(base);
    const out = await client.send(new rek.ListCollectionsCommand({ MaxResults: 7 }));
    assert.strictEqual(out.$metadata.httpStatusCode, 200);
    assert.match(out.$metadata.requestId, REQUEST_ID);
    assert.strictEqual(out.CollectionIds[0], 'RekognitionService.ListCollections');
    assert.deepStrictEqual(JSON.parse(out.CollectionIds[1]), { MaxResults: 7 });
  });

  await check('signed DetectFaces with 4 MiB of image bytes succeeds', async () => {
    const client = new rek.RekognitionClient(base);
    const bytes = new Uint8Array(4 << 20).map((_, i) => (i * 7919) % 256);
    const out = await client.send(new rek.DetectFacesCommand({ Image: { Bytes: bytes },
                                                               Attributes: ['ALL'] }));
    assert.strictEqual(out.$metadata.httpStatusCode, 200);
  });

  await check('signed Comprehend DetectSentiment with non-ASCII text succeeds', async () => {
    const client = new comprehend.ComprehendClient(base);
    const out = await client.send(new comprehend.DetectSentimentCommand(
        { Text: 'Loving   this \u{1F600} caf\u00e9!!! #great', LanguageCode: 'en' }));
    assert.strictEqual(out.Sentiment, 'NEUTRAL');
    assert.strictEqual(out.SentimentScore.Neutral, 1);
  });

  await check('a modelled error reaches the SDK as its exception class', async () => {
    const client = new rek.RekognitionClient(base);
    const e = await expectError(
        client.send(new rek.DescribeCollectionCommand(
            { CollectionId: 'fail:ResourceNotFoundException' })),
        'ResourceNotFoundException', 400, 'failure requested by the test');
    assert.ok(e instanceof rek.ResourceNotFoundException);
  });

  await check('wrong secret is refused with InvalidSignatureException (403)', async () => {
    const client = new rek.RekognitionClient({
      ...base, maxAttempts: 1,
      credentials: { accessKeyId: keyId, secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
    });
    await expectError(client.send(new rek.ListCollectionsCommand({})),
                      'InvalidSignatureException', 403,
                      'The request signature we calculated does not match');
  });

  await check('unknown access key is refused with UnrecognizedClientException (400)', async () => {
    const client = new rek.RekognitionClient({
      ...base, maxAttempts: 1,
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) },
    });
    await expectError(client.send(new rek.ListCollectionsCommand({})),
                      'UnrecognizedClientException', 400,
                      'The security token included in the request is invalid');
  });

  await check('a clock 20 min slow gets "Signature expired" without retries', async () => {
    const client = new rek.RekognitionClient({ ...base, maxAttempts: 1,
                                               systemClockOffset: -20 * 60 * 1000 });
    await expectError(client.send(new rek.ListCollectionsCommand({})),
                      'InvalidSignatureException', 400, 'Signature expired');
  });

  await check('...and the SDK corrects its clock from our Date header and retries', async () => {
    const client = new rek.RekognitionClient({ ...base, maxAttempts: 3,
                                               systemClockOffset: -20 * 60 * 1000 });
    const out = await client.send(new rek.ListCollectionsCommand({}));
    assert.strictEqual(out.$metadata.httpStatusCode, 200);
    assert.ok(out.$metadata.attempts >= 2, `attempts: ${out.$metadata.attempts}`);
  });

  await check('the server counted the refusals', async () => {
    const res = await fetch(`${endpoint}/metrics`);
    const text = await res.text();
    assert.match(text, /stratus_aws_requests_total\{code="InvalidSignatureException",target="RekognitionService.ListCollections"\} [1-9]/);
    assert.match(text, /stratus_aws_requests_total\{code="ok",target="Comprehend_20171127.DetectSentiment"\} 1/);
  });

  server.child.kill('SIGTERM');
  await server.exited;
  fs.rmSync(dir, { recursive: true, force: true });
  const failed = results.filter(([, ok]) => !ok).length;
  console.log(`${results.length - failed}/${results.length} checks passed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(`FAIL: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
