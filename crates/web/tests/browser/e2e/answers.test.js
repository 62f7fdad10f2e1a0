// The unit tests of live-updates.js run on answers captured from a real server
// (unit/fixtures/answers.json, written by tools/capture-answers.js). This captures them
// again from the binary under test and checks that the file still has their shape, so
// that the unit tests cannot drift from what the hub really sends.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { demoDesk, chromiumMissing } = require('../lib/harness');
const { captureAnswers, shape } = require('../lib/answers');
const recorded = require('../unit/fixtures/answers.json');

const skip = chromiumMissing();

test('the recorded answers are the server\'s', { skip, timeout: 120000 }, async (t) => {
  const { server, browser } = await demoDesk(t);
  const answers = await captureAnswers(server, browser);
  assert.deepEqual(shape(answers), shape(recorded), 'run tools/capture-answers.js');
  assert.deepEqual(answers.closes, recorded.closes);
  assert.equal(answers.pollAfterSessionEnded.status, 401);
});
