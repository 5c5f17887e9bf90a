// Runs the viewer-request function (provision.viewer_request_code) the way CloudFront Functions would,
// as far as node can: strict mode, a fresh context with only the language's
// own globals (no require, process, Buffer or atob), and a fake 'cloudfront'
// module whose kvs() answers from a list of revoked keys. There is no local
// CloudFront Functions runtime; the import line is the only thing rewritten.
//
// stdin:  {"code": the function's source, "revoked": [keys], "kvsDown": bool,
//          "events": [{"uri": ..., "method": "GET", "headers": {...}, "cookies": {...}}]}
// stdout: one result per event: the returned request or response object.
'use strict';
const fs = require('fs');
const vm = require('vm');

const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const IMPORT = "import cf from 'cloudfront';";
const source = input.code;
if (source.split(IMPORT).length !== 2 || !source.startsWith(IMPORT)) {
  throw new Error('the function must start with: ' + IMPORT);
}
const revoked = new Set(input.revoked);
const lookups = [];
const cloudfront = {
  kvs() {
    return {
      async exists(key) {
        lookups.push(key);
        if (input.kvsDown) {
          throw new Error('key value store unavailable');
        }
        return revoked.has(key);
      }
    };
  }
};
const context = vm.createContext({ __cloudfront: cloudfront });
const code = '"use strict";\n' + source.replace(IMPORT, 'const cf = __cloudfront;') +
  '\n;handler';
const handler = new vm.Script(code, { filename: 'viewer-request.js' }).runInContext(context);

(async () => {
  const results = [];
  for (const event of input.events) {
    lookups.length = 0;
    const request = { method: event.method || 'GET', uri: event.uri,
      querystring: event.querystring || {}, headers: event.headers || {},
      cookies: event.cookies || {} };
    const result = await handler({ version: '1.0', context: { eventType: 'viewer-request' },
      viewer: { ip: '192.0.2.1' }, request: request });
    results.push({ result: JSON.parse(JSON.stringify(result)), lookups: lookups.slice() });
  }
  process.stdout.write(JSON.stringify(results));
})().catch((error) => {
  process.stderr.write(String(error && error.stack || error));
  process.exit(1);
});
