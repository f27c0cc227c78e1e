// Benchmark (prints numbers, asserts nothing): SearchUsersByImage top-1 identification through
// the real AWS SDK against a running stratus-recognition.
//   node users_top1.js ENDPOINT UNUSED MASKS_DIR [ENROL=2] [QUERIES_PER_IDENTITY=all]
// Run it through recognition-e2e-driver (which starts PostgreSQL, the real detector and the
// service, and passes these arguments) with --script pointing here and --photos at the shared
// data/masks folder. Identities are the names in data/masks/without_mask/0_0_<name>_<n>.jpg
// (the Real-World Masked Face Dataset's unmasked celebrity photos); names with at least ENROL+1
// photos are used. Per identity, the first ENROL photos (file name order) are indexed, one face
// each, and associated with a user named after the identity; every other photo is a query. A
// query is correct when the top user (UserMatchThreshold 0, MaxUsers 1) is its identity.
// Also printed: the same at the default threshold 80 (correct / wrong / no match), and the
// face-level baseline (SearchFacesByImage top-1 face's user). Running totals every 10 queries.
// USERS_TOP1_COLLECTION=<id> queries a collection an earlier run enrolled (same ENROL), without
// enrolling or deleting it.
'use strict';

const fs = require('fs');
const path = require('path');
const { cachedRequire } = require('../lib/npm_cache.js');

const [endpoint, , masksDir, enrolArg, queriesArg] = process.argv.slice(2);
const enrol = Number(enrolArg || 2);
const perIdentity = queriesArg ? Number(queriesArg) : Infinity;
const reuse = process.env.USERS_TOP1_COLLECTION;
const rek = cachedRequire(__dirname)('@aws-sdk/client-rekognition');
const client = new rek.RekognitionClient({ endpoint, region: 'us-east-1', maxAttempts: 3 });
const send = (Command, input) => client.send(new Command(input));
const collection = reuse || `users-top1-${process.pid}`;

async function main() {
  const dir = path.join(masksDir, 'without_mask');
  const byId = new Map();
  for (const f of fs.readdirSync(dir).sort()) {
    const m = /^0_0_(.+)_(\d+)\.jpg$/.exec(f);
    if (!m) continue;
    if (!byId.has(m[1])) byId.set(m[1], []);
    byId.get(m[1]).push(path.join(dir, f));
  }
  // USERS_TOP1_MAX_IDS: only the first N identities (name order), for short runs.
  const ids = [...byId.keys()].filter((k) => byId.get(k).length > enrol)
    .slice(0, Number(process.env.USERS_TOP1_MAX_IDS || Infinity));
  if (!reuse) await send(rek.CreateCollectionCommand, { CollectionId: collection });
  let enrolled = 0, noFaceEnrol = 0, usersWithFaces = 0;
  const t0 = Date.now();
  for (const id of reuse ? [] : ids) {
    await send(rek.CreateUserCommand, { CollectionId: collection, UserId: id });
    const faceIds = [];
    for (const file of byId.get(id).slice(0, enrol)) {
      const r = await send(rek.IndexFacesCommand, { CollectionId: collection, Image: { Bytes: fs.readFileSync(file) },
                                                    MaxFaces: 1, QualityFilter: 'NONE' });
      if (r.FaceRecords.length === 0) noFaceEnrol++;
      else faceIds.push(r.FaceRecords[0].Face.FaceId);
    }
    if (faceIds.length === 0) continue;
    const a = await send(rek.AssociateFacesCommand, { CollectionId: collection, UserId: id, FaceIds: faceIds,
                                                      UserMatchThreshold: 0 });
    enrolled += a.AssociatedFaces.length;
    usersWithFaces++;
  }
  const tEnrol = (Date.now() - t0) / 1000;
  let queries = 0, noFace = 0, top1 = 0, at80 = 0, wrong80 = 0, none80 = 0, faceTop1 = 0;
  const t1 = Date.now();
  for (const id of ids) {
    for (const file of byId.get(id).slice(enrol, enrol + perIdentity)) {
      const bytes = fs.readFileSync(file);
      queries++;
      const r = await send(rek.SearchUsersByImageCommand, { CollectionId: collection, Image: { Bytes: bytes },
                                                            UserMatchThreshold: 0, MaxUsers: 500 });
      if (!r.SearchedFace) {
        noFace++;
        continue;
      }
      const best = r.UserMatches[0];
      if (best && best.User.UserId === id) top1++;
      const above = r.UserMatches.filter((m) => m.Similarity >= 80);
      if (above.length === 0) none80++;
      else if (above[0].User.UserId === id) at80++;
      else wrong80++;
      const f = await send(rek.SearchFacesByImageCommand, { CollectionId: collection, Image: { Bytes: bytes },
                                                            FaceMatchThreshold: 0, MaxFaces: 1 });
      if (f.FaceMatches.length > 0 && f.FaceMatches[0].Face.UserId === id) faceTop1++;
      if (queries % 10 === 0) {
        console.log(`... ${queries} queries: searched ${queries - noFace}, top-1 ${top1}, face-level ${faceTop1}`);
      }
    }
  }
  const tQuery = (Date.now() - t1) / 1000;
  const pct = (n, d) => `${(100 * n / Math.max(d, 1)).toFixed(1)}% (${n}/${d})`;
  const searched = queries - noFace;
  console.log(`identities ${ids.length} (>= ${enrol + 1} photos), users with faces ${usersWithFaces}, ` +
              `enrolled faces ${enrolled}, enrol photos without a face ${noFaceEnrol}`);
  console.log(`queries ${queries}, without a face ${noFace}, searched ${searched}`);
  console.log(`SearchUsersByImage top-1 (threshold 0): ${pct(top1, searched)} of searched, ${pct(top1, queries)} of all`);
  console.log(`at UserMatchThreshold 80: correct ${pct(at80, searched)}, wrong ${pct(wrong80, searched)}, ` +
              `no match ${pct(none80, searched)}`);
  console.log(`face-level baseline (SearchFacesByImage top-1 face's user): ${pct(faceTop1, searched)}`);
  console.log(`time: enrol ${tEnrol.toFixed(0)} s, queries ${tQuery.toFixed(0)} s`);
  if (!reuse) await send(rek.DeleteCollectionCommand, { CollectionId: collection });
}

main().catch((e) => {
  console.error(`FAIL: ${e.stack}`);
  process.exit(1);
});
