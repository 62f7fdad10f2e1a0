// Captures the hub's real answers for the unit tests of live-updates.js:
//   node tools/capture-answers.js   (the built binary, Chromium; see ../README.md)
// and writes them to unit/fixtures/answers.json.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Server, launch } = require('../lib/harness');
const { captureAnswers } = require('../lib/answers');

(async () => {
  const server = new Server();
  await server.start();
  const browser = await launch();
  try {
    const answers = await captureAnswers(server, browser);
    const file = path.join(__dirname, '..', 'unit', 'fixtures', 'answers.json');
    fs.writeFileSync(file, JSON.stringify(answers, null, 2) + '\n');
    console.log('wrote', file);
  } finally {
    await browser.close();
    await server.stop();
    server.cleanup();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
