// Captures requests signed by the real AWS SDK (not sent anywhere) into the fixture that
// common/aws/sigv4_test.cc verifies offline:
//   node capture-fixture.js ../../../common/aws/testdata/sdk_signed_requests.json
// Run once; rerun only to refresh the fixture against a newer SDK.
'use strict';

const fs = require('fs');
const { cachedRequire } = require('../lib/npm_cache.js');

const sdkRequire = cachedRequire(__dirname);
const rek = sdkRequire('@aws-sdk/client-rekognition');
const comprehend = sdkRequire('@aws-sdk/client-comprehend');

const credentials = {
  accessKeyId: 'AKIAFIXTUREFIXTURE00',
  secretAccessKey: 'fixture/secret+key/0123456789abcdefghijklm',
};

// A request handler that records the signed request instead of sending it.
function capturing(sink) {
  return {
    handle: async (request) => {
      sink.push({
        method: request.method,
        path: request.path,
        query: request.query || {},
        headers: request.headers,
        body: Buffer.from(request.body).toString('utf8'),
      });
      throw new Error('captured');
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() { return {}; },
  };
}

async function capture(client, command, sink) {
  try {
    await client.send(command);
  } catch (e) {
    if (e.message !== 'captured') throw e;
  }
  return sink[sink.length - 1];
}

async function main() {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node capture-fixture.js OUT.json');
  const sink = [];
  const common = { endpoint: 'http://localhost:8083', region: 'us-east-1',
                   credentials: { ...credentials },
                   maxAttempts: 1, requestHandler: capturing(sink) };
  const cases = [];
  cases.push({
    name: 'rekognition DetectFaces',
    request: await capture(new rek.RekognitionClient(common),
                           new rek.DetectFacesCommand({
                             Image: { Bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]) },
                             Attributes: ['ALL'],
                           }), sink),
  });
  cases.push({
    name: 'comprehend DetectSentiment (non-ASCII text)',
    request: await capture(new comprehend.ComprehendClient(common),
                           new comprehend.DetectSentimentCommand({
                             Text: 'Loving   this \u{1F600} caf\u00e9!!!', LanguageCode: 'en',
                           }), sink),
  });
  const pkg = (name) => sdkRequire(`${name}/package.json`).version;
  const fixture = {
    comment: 'Requests signed by the AWS SDK for JavaScript v3 with the credentials below, ' +
             'captured by tests/e2e/aws-sigv4/capture-fixture.js; never sent.',
    sdk: { 'client-rekognition': pkg('@aws-sdk/client-rekognition'),
           'client-comprehend': pkg('@aws-sdk/client-comprehend'), node: process.version },
    credentials: { accessKeyId: credentials.accessKeyId,
                   secretAccessKey: credentials.secretAccessKey },
    cases,
  };
  fs.writeFileSync(out, JSON.stringify(fixture, null, 2) + '\n');
  console.log(`wrote ${cases.length} signed requests to ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
