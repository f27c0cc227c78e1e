// End-to-end test of stratus-recognition with the real AWS SDK for JavaScript v3:
//   node run.js ENDPOINT GOLDEN_DIR PHOTOS_DIR
// The caller (driver.cc, registered as a ctest) starts PostgreSQL, a detector and the
// recognition service, and sets AWS_SHARED_CREDENTIALS_FILE + AWS_PROFILE=stratus to the
// credentials file the service generated: exactly what a Stratus user sets besides the
// endpoint. Checks DetectFaces, CompareFaces, the collection operations, IndexFaces, ListFaces
// pagination, SearchFacesByImage, SearchFaces, DeleteFaces, the Users operations (CreateUser,
// DeleteUser, ListUsers, AssociateFaces, DisassociateFaces, SearchUsers, SearchUsersByImage),
// DetectText (a rendered sign, filters, bad input), stored video (StartLabelDetection,
// GetLabelDetection with its NotificationChannel notice received on STRATUS_E2E_SNS_PORT,
// StartFaceDetection, GetFaceDetection) when STRATUS_E2E_VIDEO names a file of the bucket
// e2e-videos,
// the error shapes of bad input, and
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
      // From face_iris (the real detector; the fake one replays face-api's outputs, which have
      // no gaze): gaze relative to the head, within a hemisphere.
      if (process.env.STRATUS_E2E_REAL_DETECTOR) {
        assert.ok(f.EyeDirection, 'EyeDirection with ALL attributes');
        assert.ok(Math.abs(f.EyeDirection.Yaw ?? 0) <= 90 && Math.abs(f.EyeDirection.Pitch ?? 0) <= 90);
        assert.ok(f.EyeDirection.Confidence > 50);
      } else {
        assert.strictEqual(f.EyeDirection, undefined);
      }
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

  await check('DetectText: words of a rendered sign, lines before words, filters', async () => {
    const sign = fs.readFileSync(path.join(__dirname, 'text.jpg'));
    const r = await send(rek.DetectTextCommand, { Image: { Bytes: sign } });
    assert.strictEqual(r.TextModelVersion, '3.0');
    const lines = r.TextDetections.filter((t) => t.Type === 'LINE');
    const words = r.TextDetections.filter((t) => t.Type === 'WORD');
    assert.ok(lines.length >= 1 && words.length >= 3, JSON.stringify(r.TextDetections));
    const read = words.map((w) => w.DetectedText.toUpperCase());
    for (const w of JSON.parse(fs.readFileSync(path.join(__dirname, 'text.json')))) {
      assert.ok(read.includes(w.toUpperCase()), `${w} not in ${read}`);
    }
    r.TextDetections.forEach((t, i) => assert.strictEqual(t.Id, i));
    for (const l of lines) assert.strictEqual(l.ParentId, undefined);
    for (const w of words) {
      assert.ok(lines.some((l) => l.Id === w.ParentId));
      assert.ok(w.Confidence >= 0 && w.Confidence <= 100);
      assert.strictEqual(w.Geometry.Polygon.length, 4);
      const b = w.Geometry.BoundingBox;
      assert.ok(b.Left >= 0 && b.Top >= 0 && b.Width > 0 && b.Width <= 1 && b.Height > 0);
    }
    const none = await send(rek.DetectTextCommand, {
      Image: { Bytes: sign }, Filters: { WordFilter: { MinBoundingBoxHeight: 0.9 } } });
    assert.strictEqual(none.TextDetections.length, 0);
    const blank = await send(rek.DetectTextCommand,
                             { Image: { Bytes: fs.readFileSync(path.join(__dirname, 'blank.png')) } });
    assert.strictEqual(blank.TextDetections.filter((t) => t.Type === 'WORD').length, 0);
  });
  await check('DetectText bad input', async () => {
    await expectError(send(rek.DetectTextCommand, { Image: { Bytes: Buffer.from('not an image') } }),
                      'InvalidImageFormatException');
    await expectError(send(rek.DetectTextCommand, { Image: { Bytes: sample(3) },
                                                    Filters: { WordFilter: { MinConfidence: 101 } } }),
                      'InvalidParameterException');
    await expectError(send(rek.DetectTextCommand, { Image: { Bytes: Buffer.alloc(5 * 1024 * 1024 + 10, 1) } }),
                      'ImageTooLargeException');
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
  await check('Users: create, associate, list, search, disassociate, delete', async () => {
    const user = 'e2e-user:1';
    await send(rek.CreateUserCommand, { CollectionId: collection, UserId: user });
    // The SDK fills ClientRequestToken in: a second CreateUser is a new request.
    await expectError(send(rek.CreateUserCommand, { CollectionId: collection, UserId: user }),
                      'ConflictException');
    const token = `token-${process.pid}`;
    for (let i = 0; i < 2; i++) {  // the same token again: the first answer
      await send(rek.CreateUserCommand, { CollectionId: collection, UserId: 'e2e-user:2',
                                          ClientRequestToken: token });
    }
    await expectError(send(rek.CreateUserCommand, { CollectionId: collection, UserId: 'e2e-user:3',
                                                    ClientRequestToken: token }),
                      'IdempotentParameterMismatchException');
    const page = await send(rek.ListUsersCommand, { CollectionId: collection, MaxResults: 1 });
    assert.deepStrictEqual(page.Users, [{ UserId: user, UserStatus: 'CREATED' }]);
    const rest = await send(rek.ListUsersCommand, { CollectionId: collection, NextToken: page.NextToken });
    assert.deepStrictEqual(rest.Users.map((u) => u.UserId), ['e2e-user:2']);
    assert.strictEqual(rest.NextToken, undefined);

    const top = await send(rek.SearchFacesByImageCommand, { CollectionId: collection, Image: { Bytes: sample(4) },
                                                            MaxFaces: 1, FaceMatchThreshold: 99 });
    const faceId = top.FaceMatches[0].Face.FaceId;
    const a = await send(rek.AssociateFacesCommand, { CollectionId: collection, UserId: user,
      FaceIds: [faceId, '00000000-0000-4000-8000-000000000000'] });
    assert.deepStrictEqual(a.AssociatedFaces, [{ FaceId: faceId }]);
    assert.deepStrictEqual(a.UnsuccessfulFaceAssociations[0].Reasons, ['FACE_NOT_FOUND']);
    assert.strictEqual(a.UserStatus, 'ACTIVE');
    // The least similar face of the collection is refused now that the user has a face.
    const all = await send(rek.SearchFacesCommand, { CollectionId: collection, FaceId: faceId,
                                                     FaceMatchThreshold: 0 });
    const stranger = all.FaceMatches[all.FaceMatches.length - 1];
    assert.ok(stranger.Similarity < 75, `least similar: ${stranger.Similarity}`);
    const b = await send(rek.AssociateFacesCommand, { CollectionId: collection, UserId: user,
                                                      FaceIds: [stranger.Face.FaceId] });
    assert.strictEqual(b.AssociatedFaces.length, 0);
    assert.deepStrictEqual(b.UnsuccessfulFaceAssociations[0].Reasons, ['LOW_MATCH_CONFIDENCE']);
    assert.ok(b.UnsuccessfulFaceAssociations[0].Confidence < 75);

    const faces = await send(rek.ListFacesCommand, { CollectionId: collection, UserId: user });
    assert.deepStrictEqual(faces.Faces.map((f) => [f.FaceId, f.UserId]), [[faceId, user]]);
    const d = await send(rek.DescribeCollectionCommand, { CollectionId: collection });
    assert.strictEqual(d.UserCount, 2);

    const s = await send(rek.SearchUsersByImageCommand, { CollectionId: collection, Image: { Bytes: sample(4) } });
    assert.strictEqual(s.UserMatches.length, 1);
    assert.strictEqual(s.UserMatches[0].User.UserId, user);
    assert.strictEqual(s.UserMatches[0].User.UserStatus, 'ACTIVE');
    assert.ok(s.UserMatches[0].Similarity > 99);
    assert.ok(s.SearchedFace.FaceDetail.BoundingBox.Width > 0);
    assert.ok(s.UnsearchedFaces.length >= 1);
    assert.ok(s.UnsearchedFaces.every((u) => u.Reasons.includes('FACE_NOT_LARGEST') && u.FaceDetails.BoundingBox));
    const none = await send(rek.SearchUsersByImageCommand, { CollectionId: collection,
      Image: { Bytes: fs.readFileSync(path.join(__dirname, 'blank.png')) } });
    assert.deepStrictEqual(none.UserMatches, []);
    assert.strictEqual(none.SearchedFace, undefined);
    const byFace = await send(rek.SearchUsersCommand, { CollectionId: collection, FaceId: stranger.Face.FaceId,
                                                        UserMatchThreshold: 0 });
    assert.strictEqual(byFace.SearchedFace.FaceId, stranger.Face.FaceId);
    assert.deepStrictEqual(byFace.UserMatches.map((m) => m.User.UserId), [user]);
    assert.ok(Math.abs(byFace.UserMatches[0].Similarity - stranger.Similarity) < 0.01);
    const byUser = await send(rek.SearchUsersCommand, { CollectionId: collection, UserId: user });
    assert.strictEqual(byUser.SearchedUser.UserId, user);
    assert.deepStrictEqual(byUser.UserMatches, []);

    const del = await send(rek.DeleteFacesCommand, { CollectionId: collection, FaceIds: [faceId] });
    assert.deepStrictEqual(del.DeletedFaces, []);
    assert.strictEqual(del.UnsuccessfulFaceDeletions[0].UserId, user);
    assert.deepStrictEqual(del.UnsuccessfulFaceDeletions[0].Reasons, ['ASSOCIATED_TO_AN_EXISTING_USER']);
    const dis = await send(rek.DisassociateFacesCommand, { CollectionId: collection, UserId: user,
                                                           FaceIds: [faceId] });
    assert.deepStrictEqual(dis.DisassociatedFaces, [{ FaceId: faceId }]);
    assert.strictEqual(dis.UserStatus, 'CREATED');
    await send(rek.DeleteUserCommand, { CollectionId: collection, UserId: user });
    await expectError(send(rek.DeleteUserCommand, { CollectionId: collection, UserId: user }),
                      'ResourceNotFoundException');

    await expectError(send(rek.CreateUserCommand, { CollectionId: collection, UserId: 'not valid' }),
                      'InvalidParameterException');
    await expectError(send(rek.CreateUserCommand, { CollectionId: 'no-such-collection', UserId: 'u' }),
                      'ResourceNotFoundException');
    await expectError(send(rek.AssociateFacesCommand, { CollectionId: collection, UserId: 'e2e-user:2',
                                                        FaceIds: Array(101).fill(faceId) }),
                      'InvalidParameterException');
    await expectError(send(rek.AssociateFacesCommand, { CollectionId: collection, UserId: 'nobody',
                                                        FaceIds: [faceId] }),
                      'ResourceNotFoundException');
    await expectError(send(rek.DisassociateFacesCommand, { CollectionId: collection, UserId: 'e2e-user:2',
                                                           FaceIds: ['not-a-uuid'] }),
                      'InvalidParameterException');
    await expectError(send(rek.SearchUsersCommand, { CollectionId: collection, UserId: user, FaceId: faceId }),
                      'InvalidParameterException');
    await expectError(send(rek.SearchUsersCommand, { CollectionId: collection, FaceId: faceId, MaxUsers: 0 }),
                      'InvalidParameterException');
    await expectError(send(rek.SearchUsersByImageCommand, { CollectionId: collection, Image: { Bytes: sample(4) },
                                                            UserMatchThreshold: 101 }),
                      'InvalidParameterException');
    await expectError(send(rek.SearchUsersByImageCommand, { CollectionId: 'no-such-collection',
                                                            Image: { Bytes: sample(4) } }),
                      'ResourceNotFoundException');
    await expectError(send(rek.ListUsersCommand, { CollectionId: collection, NextToken: 'bogus' }),
                      'InvalidPaginationTokenException');
  });
  const video = process.env.STRATUS_E2E_VIDEO;
  if (video) {
    const Video = { S3Object: { Bucket: 'e2e-videos', Name: video } };
    // Polls a Get* until the job leaves IN_PROGRESS (at most 3 minutes).
    const poll = async (Command, JobId) => {
      for (let i = 0; i < 360; ++i) {
        const r = await send(Command, { JobId });
        if (r.JobStatus !== 'IN_PROGRESS') return r;
        await new Promise((done) => setTimeout(done, 500));
      }
      throw new Error(`job ${JobId} still IN_PROGRESS after 3 minutes`);
    };
    // The subscriber of the notification topic the driver gave the service, as SNS would
    // deliver to an HTTP endpoint: keeps every POST.
    const topic = 'arn:aws:sns:us-east-1:123456789012:e2e-video';
    const notices = [];
    const subscriber = require('http').createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => { body += chunk; });
      req.on('end', () => {
        notices.push({ headers: req.headers, body });
        res.end();
      });
    });
    await new Promise((done) => subscriber.listen(Number(process.env.STRATUS_E2E_SNS_PORT), '127.0.0.1', done));
    await check('StartLabelDetection / GetLabelDetection on a stored video', async () => {
      const { JobId } = await send(rek.StartLabelDetectionCommand,
                                   { Video, MinConfidence: 50, JobTag: 'e2e',
                                     NotificationChannel: { SNSTopicArn: topic,
                                                            RoleArn: 'arn:aws:iam::123456789012:role/e2e' } });
      assert.match(JobId, /^[0-9a-f]{64}$/);
      const r = await poll(rek.GetLabelDetectionCommand, JobId);
      // The completion notice follows the job's end.
      for (let i = 0; i < 100 && notices.length === 0; ++i) await new Promise((done) => setTimeout(done, 100));
      assert.strictEqual(notices.length, 1, 'one completion notice');
      assert.strictEqual(notices[0].headers['x-amz-sns-message-type'], 'Notification');
      const envelope = JSON.parse(notices[0].body);
      assert.strictEqual(envelope.TopicArn, topic);
      const message = JSON.parse(envelope.Message);
      assert.deepStrictEqual([message.JobId, message.Status, message.API, message.JobTag],
                             [JobId, 'SUCCEEDED', 'StartLabelDetection', 'e2e']);
      assert.deepStrictEqual(message.Video, { S3ObjectName: video, S3Bucket: 'e2e-videos' });
      assert.strictEqual(r.JobStatus, 'SUCCEEDED', r.StatusMessage);
      assert.strictEqual(r.JobTag, 'e2e');
      assert.strictEqual(r.VideoMetadata.Codec, 'h264');
      assert.strictEqual(r.VideoMetadata.Format, 'QuickTime / MOV');
      assert.strictEqual(r.VideoMetadata.FrameWidth, 768);
      assert.ok(Math.abs(r.VideoMetadata.DurationMillis - 8000) <= 500, r.VideoMetadata.DurationMillis);
      const times = r.Labels.map((l) => l.Timestamp);
      assert.deepStrictEqual(times, [...times].sort((a, b) => a - b));
      for (const l of r.Labels) {
        assert.ok(l.Timestamp >= 0 && l.Timestamp <= 8000);
        assert.ok(l.Label.Confidence >= 50);
      }
      if (process.env.STRATUS_E2E_REAL_DETECTOR) {
        // The clip shows people walking: the real detector sees them.
        assert.ok(r.Labels.some((l) => l.Label.Name === 'Person'), JSON.stringify(r.Labels.slice(0, 3)));
        const page = await send(rek.GetLabelDetectionCommand, { JobId, MaxResults: 1 });
        assert.strictEqual(page.Labels.length, 1);
        assert.ok(page.NextToken);
        const next = await send(rek.GetLabelDetectionCommand, { JobId, MaxResults: 1, NextToken: page.NextToken });
        assert.strictEqual(next.Labels.length, 1);
      }
    });
    await check('StartFaceDetection / GetFaceDetection on a stored video', async () => {
      const { JobId } = await send(rek.StartFaceDetectionCommand, { Video, FaceAttributes: 'DEFAULT' });
      const r = await poll(rek.GetFaceDetectionCommand, JobId);
      assert.strictEqual(r.JobStatus, 'SUCCEEDED', r.StatusMessage);
      assert.ok(Array.isArray(r.Faces));
      for (const f of r.Faces) assert.ok(f.Face.BoundingBox && f.Timestamp >= 0);
    });
    await check('stored video bad input gets Rekognition errors', async () => {
      await expectError(send(rek.StartLabelDetectionCommand,
                             { Video: { S3Object: { Bucket: 'no-such-bucket', Name: video } } }),
                        'InvalidS3ObjectException');
      await expectError(send(rek.StartLabelDetectionCommand,
                             { Video: { S3Object: { Bucket: 'e2e-videos', Name: '../pg/postgresql.conf' } } }),
                        'InvalidS3ObjectException');
      await expectError(send(rek.GetLabelDetectionCommand, { JobId: 'f'.repeat(64) }),
                        'ResourceNotFoundException');
      await expectError(send(rek.StartLabelDetectionCommand,
                             { Video, NotificationChannel: { SNSTopicArn: 'arn:aws:sns:us-east-1:123456789012:other',
                                                             RoleArn: 'arn:aws:iam::123456789012:role/e2e' } }),
                        'InvalidParameterException');
      const token = `e2e-${process.pid}`;
      await send(rek.StartLabelDetectionCommand, { Video, ClientRequestToken: token });
      await expectError(send(rek.StartLabelDetectionCommand, { Video, ClientRequestToken: token, MinConfidence: 90 }),
                        'IdempotentParameterMismatchException');
    });
    subscriber.close();
  }
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
