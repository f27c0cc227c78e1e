// Shared by the end-to-end tests: named checks that are counted rather than thrown, and an
// assertion that a call fails with the SDK error name a client would see.
'use strict';

const assert = require('assert');

let failures = 0;

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${e.name || ''} ${e.message}`);
  }
}

async function expectError(promise, name, messagePart) {
  try {
    await promise;
  } catch (e) {
    assert.strictEqual(e.name, name, `error ${e.name}: ${e.message}`);
    if (messagePart) assert.ok(e.message.includes(messagePart), `message: ${e.message}`);
    return e;
  }
  throw new Error(`expected ${name}, the call succeeded`);
}

// Prints PASS or how many checks failed, and exits with the matching status.
function finish() {
  console.log(failures === 0 ? 'PASS' : `FAIL: ${failures} check(s) failed`);
  process.exit(failures === 0 ? 0 : 1);
}

module.exports = { check, expectError, finish };
