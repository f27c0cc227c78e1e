// Writes the TF.js reference outputs that human_face_golden_test.cc holds the imported
// face_iris, face_antispoof and face_liveness to (tools/import/graph/testdata/human_face.json).
// Each model runs on two deterministic NHWC inputs that the C++ test rebuilds bit for bit:
//   "ramp": x[k] = ((k * 37) % 256) / 255 (the harness's synthetic input)
//   "wave": x[h][w][c] = 0.5 + 0.5 * sin(0.11 * h + 0.07 * w + 1.3 * c)  (smooth, face-like range)
//
//   node tools/import/graph/human_face_reference.js MODULES_DIR HUMAN_MODELS_DIR OUT.json
//
// MODULES_DIR: a folder whose node_modules holds @tensorflow/tfjs 4.22 and
// @tensorflow/tfjs-backend-wasm (scripts/bench.sh installs ../shared/golden/harness's packages
// into $STRATUS_CACHE/node/harness-<hash>); HUMAN_MODELS_DIR: human-models 3.0.4's models/.
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const [modules, modelsDir, out] = process.argv.slice(2);
if (!modules || !modelsDir || !out) {
  console.error('usage: human_face_reference.js MODULES_DIR HUMAN_MODELS_DIR OUT.json');
  process.exit(2);
}
const req = createRequire(path.join(path.resolve(modules), 'index.js'));
const tf = req('@tensorflow/tfjs');
const wasm = req('@tensorflow/tfjs-backend-wasm');

const MODELS = { iris: 64, antispoof: 128, liveness: 32 };

function handler(name) {
  const j = JSON.parse(fs.readFileSync(path.join(modelsDir, `${name}.json`), 'utf8'));
  const specs = j.weightsManifest.flatMap((g) => g.weights);
  const all = Buffer.concat(j.weightsManifest.flatMap((g) => g.paths)
    .map((p) => fs.readFileSync(path.join(modelsDir, p))));
  return tf.io.fromMemory({ modelTopology: j.modelTopology, weightSpecs: specs,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) });
}

function input(kind, size) {
  const x = new Float32Array(size * size * 3);
  for (let h = 0, k = 0; h < size; ++h) {
    for (let w = 0; w < size; ++w) {
      for (let c = 0; c < 3; ++c, ++k) {
        x[k] = kind === 'ramp' ? ((k * 37) % 256) / 255
          : Math.fround(0.5 + 0.5 * Math.sin(0.11 * h + 0.07 * w + 1.3 * c));
      }
    }
  }
  return tf.tensor(x, [1, size, size, 3]);
}

async function main() {
  wasm.setWasmPaths(path.join(path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  await tf.setBackend('wasm');
  await tf.ready();
  const result = { tfjs: tf.version.tfjs, backend: tf.getBackend(), models: {} };
  for (const [name, size] of Object.entries(MODELS)) {
    const model = await tf.loadGraphModel(handler(name));
    result.models[name] = { size, inputs: {} };
    for (const kind of ['ramp', 'wave']) {
      const x = input(kind, size);
      const y = model.execute(x);
      const t = Array.isArray(y) ? y[0] : y;
      result.models[name].inputs[kind] = { shape: t.shape, values: Array.from(await t.data()) };
      tf.dispose([x, y]);
    }
    model.dispose();
  }
  fs.writeFileSync(out, `${JSON.stringify(result)}\n`);
  console.log(`wrote ${out}`);
}
main().catch((e) => { console.error(e); process.exit(1); });
