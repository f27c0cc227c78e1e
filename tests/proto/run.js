// buf lint and buf breaking over proto/ (the rules and their deliberate exceptions are in
// proto/buf.yaml). Breaking changes are checked against proto/baseline/stratus-v1.binpb, the
// image of the published v1 API: additions pass, a removed or renumbered field, a renamed RPC
// or a changed type fails. After a deliberate break (a new major version), rebuild the
// baseline with `node tests/proto/run.js --update-baseline`.
// Usage: node tests/proto/run.js [--update-baseline]
'use strict';

const childProcess = require('child_process');
const path = require('path');
const { cachedRequire } = require('../e2e/lib/npm_cache');

const protoDir = path.resolve(__dirname, '..', '..', 'proto');
const baseline = path.join(protoDir, 'baseline', 'stratus-v1.binpb');
const req = cachedRequire(__dirname);
const buf = path.join(path.dirname(req.resolve('@bufbuild/buf/package.json')), 'bin', 'buf');

function run(args) {
  console.log(`$ buf ${args.join(' ')}`);
  const r = childProcess.spawnSync(buf, args, { cwd: protoDir, stdio: 'inherit' });
  if (r.error) throw r.error;
  return r.status;
}

if (process.argv.includes('--update-baseline')) {
  process.exit(run(['build', '--exclude-source-info', '-o', baseline]));
}
const lint = run(['lint']);
const breaking = run(['breaking', '--against', baseline]);
if (lint !== 0) console.error('FAIL: buf lint (see proto/buf.yaml for the rules and exceptions)');
if (breaking !== 0) console.error(`FAIL: buf breaking against ${path.relative(process.cwd(), baseline)}`);
if (lint === 0 && breaking === 0) console.log('PASS: buf lint and buf breaking');
process.exit(lint === 0 && breaking === 0 ? 0 : 1);
