// End-to-end test of stratus-sentiment with the real AWS SDK for JavaScript v3:
//   node run.js ENDPOINT
// The caller (driver.cc, registered as a ctest) starts PostgreSQL and the sentiment service and
// sets AWS_SHARED_CREDENTIALS_FILE + AWS_PROFILE=stratus to the credentials file the service
// generated: exactly what a Stratus user sets besides the endpoint. Checks DetectSentiment,
// BatchDetectSentiment (results and per-item errors), DetectDominantLanguage and its Batch form,
// DetectPiiEntities, ContainsPiiEntities, DetectKeyPhrases and its Batch form (offsets in code
// points), Comprehend's exceptions for bad input, and that wrongly signed requests are refused.
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
  await check('DetectDominantLanguage: ISO 639-1 codes, best first, scores in (0, 1]', async () => {
    const cases = [
      ['The weather is lovely today and we are going to walk in the park with the children.', 'en'],
      ["Nous allons au marché ce matin pour acheter des légumes et du pain pour toute la semaine.", 'fr'],
      ['Wir fahren morgen mit dem Zug nach Berlin, weil das Wetter dort besser sein soll.', 'de'],
      ['Mañana vamos a la playa con nuestros amigos porque hace mucho calor en la ciudad.', 'es'],
      ['Вчера мы долго гуляли по городу и зашли в маленькое кафе на углу.', 'ru'],
      ['今日はとても良い天気なので、公園で散歩しましょう。', 'ja'],
      ['我们明天去北京参观博物馆，然后在公园里散步。', 'zh'],
    ];
    for (const [Text, code] of cases) {
      const r = await send(cmp.DetectDominantLanguageCommand, { Text });
      assert.ok(r.Languages.length >= 1, Text);
      assert.strictEqual(r.Languages[0].LanguageCode, code, `${Text}: ${JSON.stringify(r.Languages)}`);
      for (let i = 0; i < r.Languages.length; i++) {
        const s = r.Languages[i].Score;
        assert.ok(s > 0 && s <= 1, `score ${s}`);
        if (i > 0) assert.ok(s <= r.Languages[i - 1].Score, 'sorted');
      }
    }
  });
  await check('BatchDetectDominantLanguage: results and per-item errors in index order', async () => {
    const r = await send(cmp.BatchDetectDominantLanguageCommand, {
      TextList: ['Das ist ein schöner Tag und wir gehen zusammen in den Garten.', '',
                 'x'.repeat(5001), 'Questo è un bel giorno e andiamo insieme al mare con gli amici.'],
    });
    assert.deepStrictEqual(r.ResultList.map((x) => [x.Index, x.Languages[0].LanguageCode]),
                           [[0, 'de'], [3, 'it']]);
    assert.deepStrictEqual(r.ErrorList.map((x) => [x.Index, x.ErrorCode]),
                           [[1, 'INVALID_REQUEST'], [2, 'TEXT_SIZE_LIMIT_EXCEEDED']]);
    await expectError(send(cmp.BatchDetectDominantLanguageCommand, { TextList: Array(26).fill('hello') }),
                      'BatchSizeLimitExceededException', '26');
  });
  await check('DetectDominantLanguage: 100,000-byte limit in UTF-8 bytes, empty text', async () => {
    const ok = 'ü'.repeat(50000);  // 100,000 bytes
    assert.strictEqual(Buffer.byteLength(ok), 100000);
    await send(cmp.DetectDominantLanguageCommand, { Text: ok });
    await expectError(send(cmp.DetectDominantLanguageCommand, { Text: ok + 'a' }),
                      'TextSizeLimitExceededException', '100001');
    await expectError(send(cmp.DetectDominantLanguageCommand, { Text: '' }), 'InvalidRequestException');
  });
  // [type, covered text] of each entity, slicing the text by code points as AWS counts them.
  const covered = (text, entities) => entities.map((e) =>
    [e.Type, Array.from(text).slice(e.BeginOffset, e.EndOffset).join('')]);
  await check('DetectPiiEntities: types and code point offsets', async () => {
    const text = '😀 Café order: mail jane.doe@example.com or call (415) 867-5309; card ' +
                 '4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, SSN 123-45-6789, ' +
                 'from 192.168.1.20 (nic 00:1A:2B:3C:4D:5E) on 2024-03-15, key AKIAIOSFODNN7EXAMPLE, ' +
                 'see https://example.com/orders?id=7.';
    const r = await send(cmp.DetectPiiEntitiesCommand, { Text: text, LanguageCode: 'en' });
    assert.deepStrictEqual(covered(text, r.Entities), [
      ['EMAIL', 'jane.doe@example.com'], ['PHONE', '(415) 867-5309'],
      ['CREDIT_DEBIT_NUMBER', '4111 1111 1111 1111'],
      ['INTERNATIONAL_BANK_ACCOUNT_NUMBER', 'DE89 3704 0044 0532 0130 00'], ['SSN', '123-45-6789'],
      ['IP_ADDRESS', '192.168.1.20'], ['MAC_ADDRESS', '00:1A:2B:3C:4D:5E'], ['DATE_TIME', '2024-03-15'],
      ['AWS_ACCESS_KEY', 'AKIAIOSFODNN7EXAMPLE'], ['URL', 'https://example.com/orders?id=7'],
    ]);
    for (const e of r.Entities) assert.ok(e.Score > 0.5 && e.Score <= 1, `score ${e.Score}`);
    // Look-alikes that fail their validators are not PII.
    const none = await send(cmp.DetectPiiEntitiesCommand,
                            { Text: 'order 4111 1111 1111 1112, version 1.2.3.4.5', LanguageCode: 'en' });
    assert.deepStrictEqual(none.Entities, []);
  });
  await check('ContainsPiiEntities: one label per type', async () => {
    const r = await send(cmp.ContainsPiiEntitiesCommand,
                         { Text: 'write to a@example.com or b@example.org from 10.0.0.7', LanguageCode: 'en' });
    assert.deepStrictEqual(r.Labels.map((l) => l.Name), ['EMAIL', 'IP_ADDRESS']);
    for (const l of r.Labels) assert.ok(l.Score > 0.5 && l.Score <= 1);
    const none = await send(cmp.ContainsPiiEntitiesCommand, { Text: 'nothing here', LanguageCode: 'en' });
    assert.deepStrictEqual(none.Labels, []);
  });
  await check('PII calls: Comprehend exceptions for bad input', async () => {
    await expectError(send(cmp.DetectPiiEntitiesCommand, { Text: 'bonjour', LanguageCode: 'fr' }),
                      'UnsupportedLanguageException');
    await expectError(send(cmp.ContainsPiiEntitiesCommand, { Text: '', LanguageCode: 'en' }),
                      'InvalidRequestException');
    await expectError(send(cmp.DetectPiiEntitiesCommand, { Text: 'a'.repeat(100001), LanguageCode: 'en' }),
                      'TextSizeLimitExceededException');
  });
  await check('DetectKeyPhrases: noun phrases with code point offsets', async () => {
    const text = '😀 I love the new phone, but the battery life is awful.';
    const r = await send(cmp.DetectKeyPhrasesCommand, { Text: text, LanguageCode: 'en' });
    assert.deepStrictEqual(r.KeyPhrases.map((k) => k.Text), ['the new phone', 'the battery life']);
    for (const k of r.KeyPhrases) {
      assert.strictEqual(Array.from(text).slice(k.BeginOffset, k.EndOffset).join(''), k.Text);
      assert.ok(k.Score >= 0.5 && k.Score <= 1);
    }
  });
  await check('BatchDetectKeyPhrases: results, per-item errors, language and batch limits', async () => {
    const r = await send(cmp.BatchDetectKeyPhrasesCommand,
                         { TextList: ['The meeting moved to Thursday.', 'x'.repeat(5001)], LanguageCode: 'en' });
    assert.deepStrictEqual(r.ResultList.map((x) => [x.Index, x.KeyPhrases.map((k) => k.Text)]),
                           [[0, ['The meeting', 'Thursday']]]);
    assert.deepStrictEqual(r.ErrorList.map((x) => [x.Index, x.ErrorCode]), [[1, 'TEXT_SIZE_LIMIT_EXCEEDED']]);
    await expectError(send(cmp.BatchDetectKeyPhrasesCommand, { TextList: ['Hallo Welt'], LanguageCode: 'de' }),
                      'UnsupportedLanguageException');
    await expectError(send(cmp.BatchDetectKeyPhrasesCommand,
                           { TextList: Array(26).fill('a dog'), LanguageCode: 'en' }),
                      'BatchSizeLimitExceededException');
  });
  await check('an operation Stratus does not serve is UnknownOperationException', async () => {
    await expectError(send(cmp.DetectSyntaxCommand, { Text: 'hello', LanguageCode: 'en' }),
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
