// End-to-end test of the web console in a real browser:
//   node run.js BIN_DIR SHARED_DIR [SCREENSHOT_DIR]
// Starts the platform the way a user does (`stratus up --demo` on a fresh data folder), opens
// the console link it prints in Debian's chromium (driven by playwright-core), and checks what a
// user sees: the demo stream with a live picture and boxes, events arriving, adding a stream
// (a bad URI shows its error next to the field) and removing it, indexing a face by upload and
// finding it by search, a sentiment trend chart, the Try-it and Cost pages; no console errors.
// With SCREENSHOT_DIR, a screenshot of each page lands there (docs/console/ holds the ones the
// README shows). Prints the time from opening the link to the first live picture.
// Exit status 0 only when every check passed.
'use strict';

const assert = require('assert');
const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { cachedRequire } = require('../lib/npm_cache.js');
const { check, finish } = require('../lib/checks.js');

const [binDir, sharedDir, screenshotDir] = process.argv.slice(2);
if (!binDir || !sharedDir) {
  console.error('usage: node run.js BIN_DIR SHARED_DIR [SCREENSHOT_DIR]');
  process.exit(2);
}
const { chromium } = cachedRequire(__dirname)('playwright-core');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const video = path.resolve(sharedDir, 'data/video/people-walking.mp4');
const facePhoto = path.resolve(sharedDir, 'golden/faceapi/sample3.png');
for (const f of [chromiumPath, video, facePhoto]) {
  if (!fs.existsSync(f)) {
    console.error(`FAIL: ${f} is missing`);
    process.exit(1);
  }
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stratus-e2e-console-'));
let platform = null;

function stopPlatform() {
  if (platform && platform.exitCode === null) platform.kill('SIGTERM');
}
process.on('exit', stopPlatform);

// Starts `stratus up --demo`; resolves with the console link once every service is ready.
function startPlatform() {
  return new Promise((resolve, reject) => {
    platform = childProcess.spawn(
      path.join(binDir, 'stratus'),
      ['up', '--demo', '--data-dir', dataDir, '--demo-video', video],
      { env: { ...process.env, STRATUS_CONSOLE_SCRAPE_INTERVAL_S: '2' },
        stdio: ['ignore', 'pipe', 'pipe'] });
    let url = '';
    let out = '';
    const timer = setTimeout(() => reject(new Error(`not ready after 600 s:\n${out}`)), 600000);
    platform.stdout.on('data', (d) => {
      out += d;
      const m = /^console url=(\S+)$/m.exec(out);
      if (m) url = m[1];
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        if (!url) reject(new Error(`no console url= line in:\n${out}`));
        else resolve(url);
      }
    });
    platform.stderr.on('data', (d) => process.stderr.write(d));
    platform.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`stratus up exited with ${code}:\n${out}`));
    });
  });
}

const tid = (id) => `[data-testid="${id}"]`;

async function shot(page, name) {
  if (!screenshotDir) return;
  fs.mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

// Runs a stratus command with the platform's admin key; resolves with its stdout.
function stratus(args, input) {
  const r = childProcess.spawnSync(path.join(binDir, 'stratus'), args, {
    input, encoding: 'utf8', timeout: 60000,
    env: { ...process.env, STRATUS_CREDENTIALS_FILE: path.join(dataDir, 'credentials') } });
  if (r.status !== 0) throw new Error(`stratus ${args.join(' ')}: ${r.status}\n${r.stderr}`);
  return r.stdout;
}

async function main() {
  const link = await startPlatform();
  const origin = new URL(link).origin;
  console.log(`platform ready; console link ${origin}/login?token=...`);
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const consoleErrors = [];
  // Chromium logs every 4xx answer as "Failed to load resource"; the pages show the API's 4xx
  // errors on purpose, so only those are let through. Script errors and 5xx answers are not.
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) return;
    consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('response', (r) => {  // for the log: which calls failed, if a check does
    if (r.status() >= 400) console.log(`  (HTTP ${r.status()} ${r.request().method()} ${r.url()})`);
  });

  await check('the console link logs in and shows the demo stream live', async () => {
    const opened = Date.now();
    await page.goto(link);
    assert.strictEqual(new URL(page.url()).pathname, '/');
    const card = page.locator(`${tid('stream-card')}[data-stream="demo"]`);
    await card.waitFor({ timeout: 30000 });
    await page.waitForFunction(
      (sel) => { const el = document.querySelector(sel); return el && el.complete && el.naturalWidth > 0; },
      `${tid('stream-card')}[data-stream="demo"] ${tid('live-img')}`, { timeout: 60000 });
    console.log(`time to first picture: ${((Date.now() - opened) / 1000).toFixed(1)} s`);
    // Boxes arrive with analysed frames of people (the demo lowers the threshold).
    await card.locator(`${tid('live-overlay')} ${tid('box')}`).first().waitFor({ timeout: 60000 });
    await shot(page, 'dashboard');
  });

  await check('the login link works only once', async () => {
    const other = await browser.newContext();
    const p = await other.newPage();
    const r = await p.goto(link);
    assert.strictEqual(r.status(), 401);
    await other.close();
  });

  await check('events arrive and show with snapshots', async () => {
    await page.click(tid('nav-events'));
    const follow = page.locator(tid('live-follow'));
    if (!(await follow.isChecked())) await follow.check();
    // People keep walking through the demo video: rows arrive without a reload.
    const before = await page.locator(tid('event-row')).count();
    await page.waitForFunction(
      ([sel, n]) => document.querySelectorAll(sel).length > n,
      [tid('event-row'), before], { timeout: 120000 });
    const thumb = page.locator(tid('event-thumb')).first();
    await thumb.waitFor({ timeout: 30000 });
    await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await thumb.elementHandle());
    // A person event has a box (a STREAM_STATE event, which may be the newest, has none).
    await page.locator(`${tid('event-row')}[data-type="PERSON_APPEARED"]`).first().click();
    try {
      await page.locator(`${tid('event-detail')} ${tid('event-overlay')} ${tid('box')}`).first()
        .waitFor({ timeout: 15000 });
      await shot(page, 'event-detail');
    } finally {  // an open dialog would block every later check
      await page.click(tid('event-detail-close'));
      await page.locator(tid('event-detail')).waitFor({ state: 'hidden', timeout: 5000 });
    }
    await shot(page, 'events');
  });

  await check('a stream is added (a bad URI shows its error by the field) and removed', async () => {
    await page.click(tid('nav-streams'));
    await page.fill(tid('stream-name'), 'e2e-cam');
    await page.fill(tid('stream-uri'), 'gopher://example.com/x');
    await page.click(tid('stream-submit'));
    const err = page.locator(tid('error-uri'));
    await err.waitFor({ timeout: 15000 });
    assert.ok((await err.textContent()).length > 0);
    await page.fill(tid('stream-uri'), `file://${video}`);
    await page.click(tid('stream-submit'));
    const row = page.locator(`${tid('stream-row')}[data-stream="e2e-cam"]`);
    await row.waitFor({ timeout: 15000 });
    await shot(page, 'streams');
    await row.locator(tid('stream-remove')).click();
    await row.locator(tid('stream-remove-confirm')).click();
    await row.waitFor({ state: 'detached', timeout: 15000 });
  });

  await check('a face indexed by upload is found by search', async () => {
    await page.click(tid('nav-faces'));
    await page.fill(tid('collection-id'), 'e2e-faces');
    await page.click(tid('collection-create'));
    const row = page.locator(`${tid('collection-row')}[data-collection="e2e-faces"]`);
    await row.waitFor({ timeout: 15000 });
    assert.ok(await row.locator(tid('collection-select')).isChecked(), 'the new collection is selected');
    await page.setInputFiles(tid('index-file'), facePhoto);
    await page.locator(tid('index-result')).first().waitFor({ timeout: 60000 });
    await page.locator(tid('face-row')).first().waitFor({ timeout: 30000 });
    await page.setInputFiles(tid('search-file'), facePhoto);
    const match = page.locator(tid('search-result')).first();
    await match.waitFor({ timeout: 60000 });
    const similarity = Number(await match.getAttribute('data-similarity'));
    assert.ok(similarity >= 90, `similarity ${similarity}`);
    await shot(page, 'faces');
  });

  await check('Try it shows faces drawn on an uploaded photo and the sentiment of a text', async () => {
    await page.click(tid('nav-try'));
    await page.setInputFiles(tid('try-file'), facePhoto);
    await page.locator(`${tid('try-overlay')} ${tid('box')}`).first().waitFor({ timeout: 60000 });
    await page.locator(`${tid('try-faces')}[data-state="done"]`).waitFor({ timeout: 60000 });
    await page.fill(tid('sentiment-text'), 'I love this, it is wonderful!');
    await page.click(tid('sentiment-submit'));
    const result = page.locator(tid('sentiment-result'));
    await result.waitFor({ timeout: 30000 });
    assert.strictEqual(await result.getAttribute('data-sentiment'), 'POSITIVE');
    await shot(page, 'try');
  });

  await check('a sentiment trend is charted', async () => {
    const now = Date.now();
    const posts = [];
    for (let i = 0; i < 12; i++) {
      posts.push(JSON.stringify({
        id: `e2e-${i}`, topic: 'e2e-topic', time: new Date(now - i * 60000).toISOString(),
        text: i % 3 ? 'Absolutely love the new release, great work!' : 'This is awful and broken.' }));
    }
    stratus(['feed', '-'], posts.join('\n') + '\n');
    await page.click(tid('nav-trends'));
    const topic = page.locator(`${tid('trend-topic')}[data-topic="e2e-topic"]`);
    await topic.waitFor({ timeout: 30000 });
    await topic.locator(`${tid('trend-chart')} canvas`).first().waitFor({ timeout: 30000 });
    await shot(page, 'trends');
  });

  await check('the cost page prices the live load', async () => {
    await page.click(tid('nav-cost'));
    await page.locator(tid('cost-row')).first().waitFor({ timeout: 60000 });
    await shot(page, 'cost');
  });

  await check('the console API refuses calls without a session and state changes without CSRF', async () => {
    const anon = await fetch(`${origin}/api/rpc/stratus.v1.IngestService/ListStreams`,
                             { method: 'POST', body: '{}' });
    assert.strictEqual(anon.status, 401);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'stratus_session');
    assert.ok(session && session.httpOnly && session.sameSite === 'Strict');
    const noCsrf = await fetch(`${origin}/api/rpc/stratus.v1.IngestService/ListStreams`, {
      method: 'POST', body: '{}', headers: { Cookie: `stratus_session=${session.value}` } });
    assert.strictEqual(noCsrf.status, 403);
  });

  await check('a phone-sized window shows the dashboard', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click(tid('nav-dashboard'));
    await page.locator(`${tid('stream-card')}[data-stream="demo"]`).waitFor({ timeout: 30000 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    assert.ok(!overflow, 'the page scrolls sideways on a phone');
    await shot(page, 'dashboard-phone');
  });

  await check('no console errors', async () => {
    assert.deepStrictEqual(consoleErrors, []);
  });
  await browser.close();
}

main()
  .catch((e) => { console.log(`FAIL ${e.stack || e}`); process.exitCode = 1; })
  .finally(() => {
    stopPlatform();
    const wait = Date.now() + 20000;
    const done = () => {
      if (platform && platform.exitCode === null && Date.now() < wait) return setTimeout(done, 200);
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (process.exitCode) process.exit(process.exitCode);
      finish();
    };
    done();
  });
