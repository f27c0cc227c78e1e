// Shared by the end-to-end tests: installs a test folder's package-lock.json into a cache folder
// keyed by the lockfile's hash ($STRATUS_CACHE/npm/e2e-<folder name>-<hash>, default
// ~/.cache/stratus) and returns a `require` that resolves from it. node_modules never lands in the source tree. Exits the process with
// status 1 when npm cannot install the packages: a test that needs the real SDK must not pass
// without it.
'use strict';

const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { createRequire } = require('module');

// `here`: the test's folder, holding its package.json and package-lock.json.
function cachedRequire(here) {
  const pkg = fs.readFileSync(path.join(here, 'package.json'));
  const lock = fs.readFileSync(path.join(here, 'package-lock.json'));
  const hash = crypto.createHash('sha256').update(pkg).update(lock).digest('hex').slice(0, 16);
  const cacheRoot = process.env.STRATUS_CACHE || path.join(os.homedir(), '.cache', 'stratus');
  const dir = path.join(cacheRoot, 'npm', `e2e-${path.basename(here)}-${hash}`);
  const marker = path.join(dir, '.installed');
  if (!fs.existsSync(marker)) {
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    fs.writeFileSync(path.join(tmp, 'package.json'), pkg);
    fs.writeFileSync(path.join(tmp, 'package-lock.json'), lock);
    console.log(`npm: installing the test's packages into ${dir}`);
    const r = childProcess.spawnSync(
      'npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
      { cwd: tmp, stdio: 'inherit', timeout: 600000 });
    if (r.status !== 0) {
      fs.rmSync(tmp, { recursive: true, force: true });
      console.error(`FAIL: npm ci could not install the packages (status ${r.status}` +
                    `${r.error ? `, ${r.error.message}` : ''}); this test needs them`);
      process.exit(1);
    }
    fs.writeFileSync(path.join(tmp, '.installed'), new Date().toISOString() + '\n');
    try {
      fs.renameSync(tmp, dir);
    } catch (e) {
      // Another run installed it first: use theirs.
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!fs.existsSync(marker)) throw e;
    }
  }
  return createRequire(path.join(dir, 'package.json'));
}

module.exports = { cachedRequire };
