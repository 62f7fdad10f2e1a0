// eslint for the pages' modules (crates/web/assets/modules) and their unit tests; run from
// crates/web (`npm run lint`), where the paths below start.
'use strict';
const js = require('@eslint/js');
const globals = require('globals');

module.exports = [
  js.configs.recommended,
  {
    files: ['assets/modules/**/*.js'],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
  {
    files: ['tests/browser/unit/modules/**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: globals.node },
  },
];
