// End-to-end test of stratus-recognition with the real AWS SDK for JavaScript v3:
//   node run.js ENDPOINT GOLDEN_DIR PHOTOS_DIR
// The caller (driver.cc, registered as a ctest) starts PostgreSQL, a detector and the
// recognition service, and sets AWS_SHARED_CREDENTIALS_FILE + AWS_PROFILE=stratus to the
// credentials file the service generated: exactly what a Stratus user sets besides the
// endpoint. Checks DetectFaces, CompareFaces, the collection operations, IndexFaces, ListFaces
// pagination, SearchFacesByImage, SearchFaces, DeleteFaces, the error shapes of bad input, and
// that wrongly signed requests are refused.
// Exit status 0 only when every check passed.
'use strict';

const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { cachedRequire } = require('../lib/npm_cache.js');

const [endpoint, goldenDir, photosDir] = process.argv.slice(2);
if (!endpoint || !goldenDir || !photosDir) {
  console.error('usage: node run.js ENDPOINT GOLDEN_DIR PHOTOS_DIR');
  process.exit(2);
}
const rek = cachedRequire(__dirname)('@aws-sdk/client-rekognition');

const client = new rek.RekognitionClient({ endpoint, region: 'us-east-1', maxAttempts: 1 });
const send = (Command, input) => client.send(new Command(input));
const sample = (n) => fs.readFileSync(path.join(goldenDir, `sample${n}.png`));
const photo = (name) => fs.readFileSync(path.join(photosDir, name));
const collection = `e2e-${process.pid}`;

const { check, expectError, finish } = require('../lib/checks.js');
const area = (b) => b.Width * b.Height;

async function main() {
  await check('DetectFaces with ALL attributes', async () => {
    const r = await send(rek.DetectFacesCommand, { Image: { Bytes: sample(5) }, Attributes: ['ALL'] });
    assert.ok(r.FaceDetails.length >= 3, `faces: ${r.FaceDetails.length}`);
    for (const f of r.FaceDetails) {
      assert.ok(f.Confidence > 50 && f.Confidence <= 100);
      assert.strictEqual(f.Landmarks.length, 30);
      assert.ok(['Roll', 'Yaw', 'Pitch'].every((k) => typeof f.Pose[k] === 'number' || f.Pose[k] === undefined));
      assert.ok(f.AgeRange.Low <= f.AgeRange.High);
      assert.ok(['Male', 'Female'].includes(f.Gender.Value));
      assert.ok(f.Emotions.length > 0);
      for (const k of ['Left', 'Top', 'Width', 'Height']) assert.ok(f.BoundingBox[k] !== undefined);
    }
    for (let i = 1; i < r.FaceDetails.length; i++) {
      assert.ok(area(r.FaceDetails[i - 1].BoundingBox) >= area(r.FaceDetails[i].BoundingBox) - 1e-6);
    }
  });
  await check('DetectFaces on a JPEG photo', async () => {
    const r = await send(rek.DetectFacesCommand, { Image: { Bytes: photo('no-mask.jpg') } });
    assert.ok(Array.isArray(r.FaceDetails));
    for (const f of r.FaceDetails) assert.strictEqual(f.AgeRange, undefined);  // DEFAULT only
  });
  await check('CompareFaces: same image matches, other people do not', async () => {
    const same = await send(rek.CompareFacesCommand,
                            { SourceImage: { Bytes: sample(3) }, TargetImage: { Bytes: sample(3) } });
    assert.ok(same.FaceMatches.length >= 1);
    assert.ok(same.FaceMatches[0].Similarity > 99, `similarity ${same.FaceMatches[0].Similarity}`);
    assert.ok(same.SourceImageFace.Confidence > 50);
    const other = await send(rek.CompareFacesCommand,
                             { SourceImage: { Bytes: sample(3) }, TargetImage: { Bytes: sample(6) } });
    assert.strictEqual(other.FaceMatches.length, 0);
    assert.ok(other.UnmatchedFaces.length >= 1);
    const loose = await send(rek.CompareFacesCommand, { SourceImage: { Bytes: sample(3) },
                                                        TargetImage: { Bytes: sample(6) },
                                                        SimilarityThreshold: 0 });
    assert.strictEqual(loose.FaceMatches.length, other.UnmatchedFaces.length);
  });
  await check('CompareFaces without a face in the source', async () => {
    const blank = fs.readFileSync(path.join(__dirname, 'blank.png'));
    await expectError(send(rek.CompareFacesCommand, { SourceImage: { Bytes: blank },
                                                      TargetImage: { Bytes: sample(3) } }),
                      'InvalidParameterException');
  });

  let indexed = [];
  await check('CreateCollection, duplicate, list, describe', async () => {
    const c = await send(rek.CreateCollectionCommand, { CollectionId: collection });
    assert.strictEqual(c.StatusCode, 200);
    assert.strictEqual(c.CollectionArn, `arn:aws:rekognition:us-east-1:000000000000:collection/${collection}`);
    await expectError(send(rek.CreateCollectionCommand, { CollectionId: collection }),
                      'ResourceAlreadyExistsException');
    const l = await send(rek.ListCollectionsCommand, {});
    assert.ok(l.CollectionIds.includes(collection));
    const d = await send(rek.DescribeCollectionCommand, { CollectionId: collection });
    assert.strictEqual(d.FaceCount, 0);
    assert.ok(d.CreationTimestamp instanceof Date);
    assert.ok(Math.abs(d.CreationTimestamp.getTime() - Date.now()) < 600000);
  });
  await check('IndexFaces of six photos', async () => {
    for (let n = 1; n <= 6; n++) {
      const r = await send(rek.IndexFacesCommand, { CollectionId: collection, Image: { Bytes: sample(n) },
                                                    ExternalImageId: `sample${n}`, QualityFilter: 'NONE' });
      assert.ok(r.FaceRecords.length >= 1, `sample${n}: no face indexed`);
      for (const fr of r.FaceRecords) {
        assert.match(fr.Face.FaceId, /^[0-9a-f-]{36}$/);
        assert.strictEqual(fr.Face.ExternalImageId, `sample${n}`);
        assert.ok(fr.FaceDetail.Landmarks.length === 30);
      }
      indexed = indexed.concat(r.FaceRecords.map((fr) => fr.Face));
    }
    const one = await send(rek.IndexFacesCommand, { CollectionId: collection, Image: { Bytes: sample(5) },
                                                    MaxFaces: 1, ExternalImageId: 'max1' });
    assert.strictEqual(one.FaceRecords.length, 1);
    assert.ok(one.UnindexedFaces.some((u) => u.Reasons.includes('EXCEEDS_MAX_FACES')));
    indexed.push(one.FaceRecords[0].Face);
    const d = await send(rek.DescribeCollectionCommand, { CollectionId: collection });
    assert.strictEqual(d.FaceCount, indexed.length);
  });
  await check('ListFaces with NextToken', async () => {
    const seen = new Set();
    let token;
    let pages = 0;
    do {
      const r = await send(rek.ListFacesCommand, { CollectionId: collection, MaxResults: 5, NextToken: token });
      r.Faces.forEach((f) => seen.add(f.FaceId));
      token = r.NextToken;
      pages++;
    } while (token && pages < 100);
    assert.strictEqual(seen.size, indexed.length);
    assert.strictEqual(pages, Math.ceil(indexed.length / 5));
    await expectError(send(rek.ListFacesCommand, { CollectionId: collection, NextToken: 'bogus' }),
                      'InvalidPaginationTokenException');
  });
  await check('SearchFacesByImage finds the same photo first', async () => {
    const r = await send(rek.SearchFacesByImageCommand, { CollectionId: collection, Image: { Bytes: sample(4) } });
    assert.ok(r.FaceMatches.length >= 1);
    assert.strictEqual(r.FaceMatches[0].Face.ExternalImageId, 'sample4');
    assert.ok(r.FaceMatches[0].Similarity > 99);
    assert.ok(r.SearchedFaceConfidence > 50);
    for (const m of r.FaceMatches) assert.ok(m.Similarity >= 80);
    const top = await send(rek.SearchFacesByImageCommand, { CollectionId: collection, Image: { Bytes: sample(4) },
                                                            MaxFaces: 1, FaceMatchThreshold: 99 });
    assert.strictEqual(top.FaceMatches.length, 1);
  });
  await check('SearchFaces by FaceId leaves the face itself out', async () => {
    const id = indexed[0].FaceId;
    const r = await send(rek.SearchFacesCommand, { CollectionId: collection, FaceId: id, FaceMatchThreshold: 0,
                                                   MaxFaces: 4096 });
    assert.strictEqual(r.SearchedFaceId, id);
    assert.strictEqual(r.FaceMatches.length, indexed.length - 1);
    assert.ok(!r.FaceMatches.some((m) => m.Face.FaceId === id));
  });
  await check('DeleteFaces', async () => {
    const id = indexed[0].FaceId;
    const r = await send(rek.DeleteFacesCommand, { CollectionId: collection,
                                                   FaceIds: [id, '00000000-0000-4000-8000-000000000000'] });
    assert.deepStrictEqual(r.DeletedFaces, [id]);
    assert.strictEqual(r.UnsuccessfulFaceDeletions[0].Reasons[0], 'FACE_NOT_FOUND');
  });
  await check('bad input gets Rekognition errors', async () => {
    await expectError(send(rek.SearchFacesByImageCommand, { CollectionId: 'no-such-collection',
                                                            Image: { Bytes: sample(4) } }),
                      'ResourceNotFoundException');
    await expectError(send(rek.DetectFacesCommand, { Image: { Bytes: Buffer.from('not an image') } }),
                      'InvalidImageFormatException');
    await expectError(send(rek.DetectFacesCommand, { Image: { S3Object: { Bucket: 'b', Name: 'k.jpg' } } }),
                      'InvalidParameterException', 'S3Object');
    await expectError(send(rek.DetectFacesCommand, { Image: { Bytes: Buffer.alloc(5 * 1024 * 1024 + 10, 1) } }),
                      'ImageTooLargeException');
    await expectError(send(rek.CreateCollectionCommand, { CollectionId: 'bad name' }),
                      'InvalidParameterException');
    await expectError(send(rek.CompareFacesCommand, { SourceImage: { Bytes: sample(3) },
                                                      TargetImage: { Bytes: sample(3) },
                                                      SimilarityThreshold: 150 }),
                      'InvalidParameterException');
  });
  await check('wrongly signed requests are refused', async () => {
    const creds = await client.config.credentials();
    const wrong = new rek.RekognitionClient({ endpoint, region: 'us-east-1', maxAttempts: 1,
      credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: 'wrong' + creds.secretAccessKey } });
    await expectError(wrong.send(new rek.ListCollectionsCommand({})), 'InvalidSignatureException');
    const unknown = new rek.RekognitionClient({ endpoint, region: 'us-east-1', maxAttempts: 1,
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: creds.secretAccessKey } });
    await expectError(unknown.send(new rek.ListCollectionsCommand({})), 'UnrecognizedClientException');
  });
  await check('DeleteCollection', async () => {
    const r = await send(rek.DeleteCollectionCommand, { CollectionId: collection });
    assert.strictEqual(r.StatusCode, 200);
    await expectError(send(rek.DescribeCollectionCommand, { CollectionId: collection }),
                      'ResourceNotFoundException');
  });
  finish();
}

main().catch((e) => {
  console.error(`FAIL: ${e.stack}`);
  process.exit(1);
});
