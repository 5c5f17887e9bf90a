// Runs theme/static/js/verdict.js under node for tests/team/test_verdict.py: one JSON input
// per line on stdin, one JSON verdict per line on stdout.
'use strict';
const path = require('path');
const readline = require('readline');
const {verdict} = require(path.join(__dirname, '..', '..', 'theme', 'static', 'js', 'verdict.js'));

const lines = readline.createInterface({input: process.stdin});
lines.on('line', (line) => {
  process.stdout.write(JSON.stringify(verdict(JSON.parse(line))) + '\n');
});
