// End-to-end test of stratus-sentiment with the real AWS SDK for JavaScript v3:
//   node run.js ENDPOINT
// The caller (driver.cc, registered as a ctest) starts PostgreSQL and the sentiment service and
// sets AWS_SHARED_CREDENTIALS_FILE + AWS_PROFILE=stratus to the credentials file the service
// generated: exactly what a Stratus user sets besides the endpoint. Checks DetectSentiment,
// BatchDetectSentiment (results and per-item errors), Comprehend's exceptions for bad input,
// and that wrongly signed requests are refused.
// Exit status 0 only when every check passed.
'use strict';

const assert = require('assert');
const { cachedRequire } = require('../lib/npm_cache.js');

const [endpoint] = process.argv.slice(2);
if (!endpoint) {
  console.error('usage: node run.js ENDPOINT');
  process.exit(2);
}
const cmp = cachedRequire(__dirname)('@aws-sdk/client-comprehend');

const client = new cmp.ComprehendClient({ endpoint, region: 'us-east-1', maxAttempts: 1 });
const send = (Command, input) => client.send(new Command(input));
const SENTIMENTS = ['POSITIVE', 'NEGATIVE', 'NEUTRAL', 'MIXED'];

const { check, expectError, finish } = require('../lib/checks.js');
function checkScore(s) {
  for (const k of ['Positive', 'Negative', 'Neutral', 'Mixed']) {
    assert.strictEqual(typeof s[k], 'number', `${k}: ${s[k]}`);
    assert.ok(s[k] >= 0 && s[k] <= 1, `${k}: ${s[k]}`);
  }
  const sum = s.Positive + s.Negative + s.Neutral + s.Mixed;
  assert.ok(Math.abs(sum - 1) < 1e-3, `scores sum to ${sum}`);
}
function argMax(s) {
  const order = [['POSITIVE', s.Positive], ['NEGATIVE', s.Negative], ['NEUTRAL', s.Neutral],
                 ['MIXED', s.Mixed]];
  return order.reduce((best, cur) => (cur[1] > best[1] ? cur : best))[0];
}

async function main() {
  await check('DetectSentiment: positive, negative, neutral', async () => {
    const cases = [['I love this phone, best purchase ever!! :)', 'POSITIVE'],
                   ['This is the worst service, I hate it. Never again', 'NEGATIVE'],
                   ['The meeting has been moved to Thursday at 3pm', 'NEUTRAL']];
    for (const [Text, expected] of cases) {
      const r = await send(cmp.DetectSentimentCommand, { Text, LanguageCode: 'en' });
      assert.strictEqual(r.Sentiment, expected, `${Text}: ${r.Sentiment}`);
      checkScore(r.SentimentScore);
      assert.strictEqual(argMax(r.SentimentScore), r.Sentiment);
      assert.ok(r.$metadata.requestId, 'x-amzn-RequestId');
    }
  });
  await check('DetectSentiment: contrasting clauses raise Mixed', async () => {
    const mixed = await send(cmp.DetectSentimentCommand,
                             { Text: 'I love the screen but the battery is awful', LanguageCode: 'en' });
    const single = await send(cmp.DetectSentimentCommand,
                              { Text: 'great phone, great price', LanguageCode: 'en' });
    assert.ok(mixed.SentimentScore.Mixed > 5 * single.SentimentScore.Mixed,
              `mixed ${mixed.SentimentScore.Mixed} vs single ${single.SentimentScore.Mixed}`);
  });
  await check('DetectSentiment: emoji, mentions, links, exactly 5000 bytes', async () => {
    const r = await send(cmp.DetectSentimentCommand,
                         { Text: '@bob check https://t.co/x 😍😍 sooo good #winning', LanguageCode: 'en' });
    assert.ok(SENTIMENTS.includes(r.Sentiment));
    checkScore(r.SentimentScore);
    const euro = '€'.repeat(1666) + 'ab';  // 4998 + 2 = 5000 bytes
    assert.strictEqual(Buffer.byteLength(euro), 5000);
    checkScore((await send(cmp.DetectSentimentCommand, { Text: euro, LanguageCode: 'en' })).SentimentScore);
  });
  await check('BatchDetectSentiment: results and per-item errors in index order', async () => {
    const r = await send(cmp.BatchDetectSentimentCommand, {
      TextList: ['what a great day', '', 'x'.repeat(5001), 'I hate waiting in line'],
      LanguageCode: 'en',
    });
    assert.deepStrictEqual(r.ResultList.map((x) => x.Index), [0, 3]);
    assert.strictEqual(r.ResultList[0].Sentiment, 'POSITIVE');
    assert.strictEqual(r.ResultList[1].Sentiment, 'NEGATIVE');
    for (const x of r.ResultList) checkScore(x.SentimentScore);
    assert.deepStrictEqual(r.ErrorList.map((x) => [x.Index, x.ErrorCode]),
                           [[1, 'INVALID_REQUEST'], [2, 'TEXT_SIZE_LIMIT_EXCEEDED']]);
    assert.ok(r.ErrorList[1].ErrorMessage.includes('5000'), r.ErrorList[1].ErrorMessage);
  });
  await check('BatchDetectSentiment: 25 texts agree with DetectSentiment', async () => {
    const texts = Array.from({ length: 25 }, (_, i) =>
      [`day ${i} was lovely`, `day ${i} was awful`, `day ${i} is a Tuesday`][i % 3]);
    const r = await send(cmp.BatchDetectSentimentCommand, { TextList: texts, LanguageCode: 'en' });
    assert.strictEqual(r.ResultList.length, 25);
    assert.strictEqual(r.ErrorList.length, 0);
    const one = await send(cmp.DetectSentimentCommand, { Text: texts[7], LanguageCode: 'en' });
    assert.strictEqual(r.ResultList[7].Sentiment, one.Sentiment);
    assert.ok(Math.abs(r.ResultList[7].SentimentScore.Positive - one.SentimentScore.Positive) < 1e-5);
  });
  await check('TextSizeLimitExceededException over 5000 bytes', async () => {
    await expectError(send(cmp.DetectSentimentCommand, { Text: '€'.repeat(1667), LanguageCode: 'en' }),
                      'TextSizeLimitExceededException', '5001');
  });
  await check('InvalidRequestException for an empty text', async () => {
    await expectError(send(cmp.DetectSentimentCommand, { Text: '', LanguageCode: 'en' }),
                      'InvalidRequestException');
  });
  await check('UnsupportedLanguageException for a language other than en', async () => {
    await expectError(send(cmp.DetectSentimentCommand, { Text: 'Quelle belle journée', LanguageCode: 'fr' }),
                      'UnsupportedLanguageException');
    await expectError(send(cmp.BatchDetectSentimentCommand, { TextList: ['hola'], LanguageCode: 'es' }),
                      'UnsupportedLanguageException');
  });
  await check('BatchSizeLimitExceededException over 25 texts', async () => {
    await expectError(send(cmp.BatchDetectSentimentCommand,
                           { TextList: Array(26).fill('fine'), LanguageCode: 'en' }),
                      'BatchSizeLimitExceededException', '26');
  });
  await check('an operation Stratus does not serve is UnknownOperationException', async () => {
    await expectError(send(cmp.DetectDominantLanguageCommand, { Text: 'hello' }),
                      'UnknownOperationException');
  });
  await check('wrongly signed requests are refused', async () => {
    const creds = await client.config.credentials();
    const wrong = new cmp.ComprehendClient({ endpoint, region: 'us-east-1', maxAttempts: 1,
      credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: 'wrong' + creds.secretAccessKey } });
    await expectError(wrong.send(new cmp.DetectSentimentCommand({ Text: 'hi', LanguageCode: 'en' })),
                      'InvalidSignatureException');
    const unknown = new cmp.ComprehendClient({ endpoint, region: 'us-east-1', maxAttempts: 1,
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: creds.secretAccessKey } });
    await expectError(unknown.send(new cmp.DetectSentimentCommand({ Text: 'hi', LanguageCode: 'en' })),
                      'UnrecognizedClientException');
  });
  finish();
}

main().catch((e) => {
  console.error(`FAIL: ${e.stack}`);
  process.exit(1);
});
