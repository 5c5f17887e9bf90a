import cf from 'cloudfront';

// Schoolplein viewer-request function (CloudFront Functions, cloudfront-js-2.0),
// on every cache behaviour. publish/provision.py puts this file into the
// CloudFormation template; it is tested with node (tests/cloudfront).
//  1. A URI whose meaning changes when S3 decodes it is refused with 400: an
//     encoded slash or backslash, a dot segment (also encoded), NUL, a double
//     encoding. Otherwise /groep%2Fgroep-3/ would slip past the /groep/*
//     behaviour (and its signed-cookie check) into the open default one. So is
//     a segment starting with '.': the build writes none, and the bucket's
//     postvak spool (/.postvak/) must not be addressable.
//  2. GET and HEAD only, except in a family's postvak, which is write-only:
//     PUT /gezin/<id>/postvak/<uuid4>.json and nothing else (405; OPTIONS too:
//     no CORS answer, so no other site can write).
//  3. A login cookie of a revoked link is refused with 403. Each person's
//     links expire at their own second; the key value store holds the expiry
//     seconds of revoked people ('invoke publish --target cloudfront' keeps it).
//  4. A PUT needs Content-Length 1..16384 (411, 413) and exactly one login
//     cookie whose policy covers this family. It goes on as
//     /gezin/<id>/postvak/<expiry>/<uuid>.json (the postvak's origin puts it
//     under /.postvak/ in the bucket): the expiry second names the sender
//     (submissions.py). Whether CloudFront checks the cookie before or after
//     this function, the second is then one the school signed, in a policy
//     that covers this family's path, old URI and new. If-None-Match: * makes
//     S3 refuse a name that exists (the bucket policy demands the header).
//  5. /dir/ -> /dir/index.html; /dir -> 301 to /dir/ (cookie paths end in /).

const revoked = cf.kvs();
const PROTECTED = /^\/(school|groep|gezin|archief)\//;
const BAD_ESCAPE = /%(?:2f|5c|2e|00|25)|%(?![0-9a-f]{2})/i;
const BAD_CHAR = /[\\\u0000-\u001f\u007f]/;
const POSTVAK = /^\/gezin\/[a-z0-9]{16,40}\/postvak(\/|$)/;
const SUBMISSION = new RegExp('^/gezin/([a-z0-9]{16,40})/postvak/' +
  '([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})\\.json$');
const MAX_BODY = 16384;
// A policy exactly as signing.py writes it; group 1 is its path, 2 its expiry.
const POLICY = new RegExp('^\\{"Statement":\\[\\{"Resource":"https://[A-Za-z0-9.-]+' +
  '(/|/gezin/[a-z0-9]{16,40}/)\\*","Condition":\\{"DateLessThan":\\{"AWS:EpochTime":' +
  '([0-9]{1,12})\\}\\}\\}\\]\\}$');
const POLICY_VALUE = /^[A-Za-z0-9~-]+_{0,2}$/;
// CloudFront's URL-safe base64 alphabet ('-' for '+', '~' for '/', '_' pads).
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~';

function badUri(uri) {
  if (typeof uri !== 'string' || uri.charAt(0) !== '/' || BAD_ESCAPE.test(uri) ||
      BAD_CHAR.test(uri) || uri.indexOf('//') !== -1) {
    return true;
  }
  const segments = uri.split('/');
  for (let i = 0; i < segments.length; i++) {
    if (segments[i].charAt(0) === '.') {
      return true;
    }
  }
  return false;
}

// The policy text in a CloudFront-Policy cookie, or '' if it holds none.
// CloudFront itself checks the signature; this only reads the policy.
function policyText(value) {
  let bits = 0;
  let count = 0;
  let text = '';
  for (let i = 0; i < value.length && value.charAt(i) !== '_'; i++) {
    const digit = ALPHABET.indexOf(value.charAt(i));
    if (digit < 0) {
      return '';
    }
    bits = ((bits << 6) | digit) & 0xffffff;
    count += 6;
    if (count >= 8) {
      count -= 8;
      text += String.fromCharCode((bits >> count) & 0xff);
    }
  }
  return text;
}

// The expiry second in a CloudFront-Policy cookie, or '' if it holds none.
function policyExpiry(value) {
  const found = /"AWS:EpochTime":([0-9]{1,12})\}/.exec(policyText(value));
  return found ? found[1] : '';
}

// Every CloudFront-Policy cookie the browser sent (one per matching cookie path).
function policies(cookies) {
  const values = [];
  for (const name in cookies) {
    if (name.toLowerCase() === 'cloudfront-policy') {
      const cookie = cookies[name];
      const all = cookie.multiValue || [cookie];
      for (let i = 0; i < all.length; i++) {
        values.push(all[i].value);
      }
    }
  }
  return values;
}

function page(statusCode, statusDescription, text, allow) {
  const headers = {
    'content-type': { value: 'text/html; charset=utf-8' },
    'cache-control': { value: 'no-store' }
  };
  if (allow) {
    headers.allow = { value: allow };
  }
  return {
    statusCode: statusCode,
    statusDescription: statusDescription,
    headers: headers,
    body: {
      encoding: 'text',
      data: '<!doctype html><html lang="nl"><meta charset="utf-8"><title>' +
        statusDescription + '</title><p>' + text + '</p></html>'
    }
  };
}

// A parent's submission: checked, then stored under the sender's expiry second.
function submission(request, family, id) {
  const headers = request.headers;
  const length = headers['content-length'];
  if (!length || headers['transfer-encoding']) {
    return page(411, 'Length Required', 'Het bericht mist zijn lengte (Content-Length).');
  }
  if (!/^[0-9]{1,9}$/.test(length.value) || Number(length.value) === 0) {
    return page(400, 'Bad Request', 'Het bericht is leeg of heeft een ongeldige lengte.');
  }
  if (Number(length.value) > MAX_BODY) {
    return page(413, 'Payload Too Large', 'Het bericht is te groot (hoogstens 16 kB).');
  }
  const values = policies(request.cookies || {});
  if (values.length > 1) {
    return page(400, 'Bad Request', 'Op dit apparaat zijn meerdere inloglinks geopend. ' +
      '<a href="/uitloggen/">Log uit</a> en open uw eigen link opnieuw.');
  }
  const found = values.length && POLICY_VALUE.test(values[0]) ?
    POLICY.exec(policyText(values[0])) : null;
  if (!found || (found[1] !== '/' && found[1] !== '/gezin/' + family + '/')) {
    return page(403, 'Forbidden', 'Open eerst uw persoonlijke inloglink.');
  }
  request.uri = '/gezin/' + family + '/postvak/' + found[2] + '/' + id + '.json';
  request.querystring = {};
  headers['if-none-match'] = { value: '*' };
  return request;
}

async function handler(event) {
  const request = event.request;
  const uri = request.uri;
  if (badUri(uri)) {
    return page(400, 'Bad Request', 'Dit adres is ongeldig. <a href="/">Naar de voorpagina</a>');
  }
  const inPostvak = POSTVAK.test(uri);
  const put = inPostvak && request.method === 'PUT' ? SUBMISSION.exec(uri) : null;
  if (inPostvak && !put) {
    return page(405, 'Method Not Allowed', 'Het postvak neemt alleen nieuwe berichten aan.',
      'PUT');
  }
  if (!inPostvak && request.method !== 'GET' && request.method !== 'HEAD') {
    return page(405, 'Method Not Allowed', 'Deze pagina kan alleen gelezen worden.',
      'GET, HEAD');
  }
  if (PROTECTED.test(uri)) {
    const values = policies(request.cookies || {});
    for (let i = 0; i < values.length; i++) {
      const expiry = policyExpiry(values[i]);
      if (!expiry) {
        continue;
      }
      let isRevoked;
      try {
        isRevoked = await revoked.exists(expiry);
      } catch (error) {
        return page(503, 'Service Unavailable', 'Even geen verbinding; probeer het zo opnieuw.');
      }
      if (isRevoked) {
        return page(403, 'Forbidden', 'Deze inloglink is ingetrokken. Vraag de school om een ' +
          'nieuwe link. <a href="/uitloggen/">Uitloggen op dit apparaat</a>');
      }
    }
  }
  if (put) {
    return submission(request, put[1], put[2]);
  }
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
  } else if (uri.split('/').pop().indexOf('.') === -1) {
    return {
      statusCode: 301,
      statusDescription: 'Moved Permanently',
      headers: { location: { value: uri + '/' } }
    };
  }
  return request;
}
