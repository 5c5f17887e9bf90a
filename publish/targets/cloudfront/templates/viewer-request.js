import cf from 'cloudfront';

// Schoolplein viewer-request function (CloudFront Functions, cloudfront-js-2.0),
// on every cache behaviour. provision.py puts this file into the CloudFormation
// template (viewer_request_code: the protected roots from the section map, whole-line
// comments left out); tests run that same code in node (tests/targets/cloudfront).
//  1. A URI whose meaning changes when S3 decodes it is refused with 400: an
//     encoded slash or backslash, a dot segment (also encoded), NUL, a double
//     encoding. Otherwise /groep%2Fgroep-3/ would slip past the /groep/*
//     behaviour (and its signed-cookie check) into the open default one. So is
//     a segment starting with '.': the build writes none, and the bucket's
//     postvak spool (/.postvak/) must not be addressable.
//  2. A signed URL is refused with 403 (CloudFront would take it instead of the
//     cookies, and it names no second we could look up): any query parameter that
//     reads as Expires, Policy, Signature, Key-Pair-Id or Hash-Algorithm in any
//     case or encoding, and in a protected section any query string at all (the
//     site links none), so no parser of CloudFront's can find one we missed.
//  3. GET and HEAD only, except in a family's postvak, which is write-only:
//     PUT /gezin/<id>/postvak/<uuid4>.json and nothing else (405; OPTIONS too:
//     no CORS answer, so no other site can write). The staff postvak likewise:
//     PUT /team/<staff-id>/postvak/<uuid4>/<foto-01..30.jpg|manifest.json>.
//  4. In a protected section every login cookie must be one the school wrote
//     (fail closed, 403): CloudFront-Policy in CloudFront's base64 holding a
//     policy in exactly the shape signing.py signs, CloudFront-Signature and
//     CloudFront-Key-Pair-Id in their alphabets; any other spelling of a
//     CloudFront-* name (CloudFront-Expires, -Hash-Algorithm, percent-encoded,
//     another case) is refused. Each policy's expiry second is looked up in the
//     key value store: the seconds of revoked links ('invoke publish --target
//     cloudfront' keeps it). Revoked: 403.
//  5. A PUT needs Content-Length 1..16384 (411, 413), Content-Type
//     application/json (415: no form can post) and exactly one login cookie
//     whose policy covers this family. It goes on as
//     /gezin/<id>/postvak/<expiry>/<uuid>.json (the postvak's origin puts it
//     under /.postvak/ in the bucket): the expiry second names the sender
//     (submissions.py). Whether CloudFront checks the cookie before or after
//     this function, the second is then one the school signed, in a policy
//     that covers this family's path, old URI and new. If-None-Match: * makes
//     S3 refuse a name that exists (the bucket policy demands the header).
//     A staff PUT the same way: at most 8 MiB, image/jpeg for a photo and
//     application/json for the manifest, a policy that covers this staff
//     member's team page (or the directie's /), on as
//     /team/<staff-id>/postvak/<expiry>/<uuid>/<file>.
//  6. /dir/ -> /dir/index.html; /dir -> 301 to /dir/ (cookie paths end in /).

const revoked = cf.kvs();
// provision.py writes plugins.sections.ROOTS here (every protected behaviour's path).
const PROTECTED_ROOTS = ['/archief/', '/gezin/', '/groep/', '/personeel/', '/school/', '/team/'];
const BAD_ESCAPE = /%(?:2f|5c|2e|00|25)|%(?![0-9a-f]{2})/i;
const BAD_CHAR = /[\\\u0000-\u001f\u007f]/;
const POSTVAK = /^\/gezin\/[a-z0-9]{16,40}\/postvak(\/|$)/;
const SUBMISSION = new RegExp('^/gezin/([a-z0-9]{16,40})/postvak/' +
  '([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})\\.json$');
const MAX_BODY = 16384;
const TEAM_POSTVAK = /^\/team\/[a-z0-9][a-z0-9_-]*\/postvak(\/|$)/;
const TEAM_FILE = new RegExp('^/team/([a-z0-9][a-z0-9_-]*)/postvak/' +
  '([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})/' +
  '(manifest\\.json|foto-(?:0[1-9]|[12][0-9]|30)\\.jpg)$');
const TEAM_MAX_BODY = 8388608;
const JPEG_TYPE = /^image\/jpeg$/i;
const JSON_TYPE = /^application\/json[ \t]*(;[ \t]*charset=("?)utf-8\2[ \t]*)?$/i;
// A policy exactly as signing.py writes it; group 1 is its path, 2 its expiry.
const POLICY = new RegExp('^\\{"Statement":\\[\\{"Resource":"https://[A-Za-z0-9.-]+' +
  '(/(?:[a-z0-9_-]+/)*)\\*","Condition":\\{"DateLessThan":\\{"AWS:EpochTime":' +
  '([0-9]{1,12})\\}\\}\\}\\]\\}$');
// CloudFront's URL-safe base64 alphabet ('-' for '+', '~' for '/', '_' pads).
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~';
const BASE64 = /^[A-Za-z0-9~-]+_{0,2}$/;
const SIGNED_URL = /^(expires|policy|signature|keypairid|hashalgorithm)$/;
// The login cookies the school sets, by lower-cased name, and what their values look like.
const COOKIES = { 'cloudfront-policy': BASE64, 'cloudfront-signature': BASE64,
  'cloudfront-key-pair-id': /^[A-Z0-9]{1,64}$/ };

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

function isProtected(uri) {
  for (let i = 0; i < PROTECTED_ROOTS.length; i++) {
    if (uri.indexOf(PROTECTED_ROOTS[i]) === 0) {
      return true;
    }
  }
  return false;
}

// A name as any parser might read it: each (lenient) percent-decoding, lower case,
// letters and digits only.
function spellings(name) {
  const found = [];
  let text = String(name);
  for (let i = 0; i < 4; i++) {
    found.push(text.toLowerCase().replace(/[^a-z0-9]/g, ''));
    text = text.replace(/\+/g, ' ').replace(/%([0-9a-f]{2})/gi,
      (match, hex) => String.fromCharCode(parseInt(hex, 16)));
  }
  return found;
}

function hasSignedUrl(querystring) {
  for (const name in querystring) {
    if (spellings(name).some((s) => SIGNED_URL.test(s))) {
      return true;
    }
  }
  return false;
}

// The policy text in a CloudFront-Policy value, or '' if it is not CloudFront's base64.
function policyText(value) {
  if (!BASE64.test(value) || value.length % 4 !== 0) {
    return '';
  }
  let bits = 0;
  let count = 0;
  let text = '';
  for (let i = 0; i < value.length && value.charAt(i) !== '_'; i++) {
    bits = ((bits << 6) | ALPHABET.indexOf(value.charAt(i))) & 0xffffff;
    count += 6;
    if (count >= 8) {
      count -= 8;
      text += String.fromCharCode((bits >> count) & 0xff);
    }
  }
  return text;
}

// [path, expiry] of every CloudFront-Policy cookie, or null when any login cookie
// is not one the school wrote (then nobody can tell which one CloudFront reads).
function logins(cookies) {
  const found = [];
  for (const name in cookies) {
    const shape = COOKIES[name.toLowerCase()];
    if (!shape) {
      if (spellings(name).some((s) => s.indexOf('cloudfront') === 0)) {
        return null;
      }
      continue;
    }
    const all = cookies[name].multiValue || [cookies[name]];
    for (let i = 0; i < all.length; i++) {
      const value = all[i] && all[i].value;
      if (typeof value !== 'string' || !shape.test(value)) {
        return null;
      }
      if (name.toLowerCase() === 'cloudfront-policy') {
        const policy = POLICY.exec(policyText(value));
        if (!policy) {
          return null;
        }
        found.push([policy[1], policy[2]]);
      }
    }
  }
  return found;
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

const LOG_OUT = ' <a href="/uitloggen/">Uitloggen op dit apparaat</a>';

function forbidden(text) {
  return page(403, 'Forbidden', text + LOG_OUT);
}

// A submission (a parent's, or a file a staff member posts): checked, then stored under
// the sender's expiry second. `home` is the section the sender's policy must cover,
// `tail` what follows the second in the stored URI.
function submission(request, found, home, tail, maxBody, contentType) {
  const headers = request.headers;
  const length = headers['content-length'];
  if (!length || headers['transfer-encoding']) {
    return page(411, 'Length Required', 'Het bericht mist zijn lengte (Content-Length).');
  }
  if (!/^[0-9]{1,9}$/.test(length.value) || Number(length.value) === 0) {
    return page(400, 'Bad Request', 'Het bericht is leeg of heeft een ongeldige lengte.');
  }
  if (Number(length.value) > maxBody) {
    return page(413, 'Payload Too Large', maxBody === MAX_BODY ?
      'Het bericht is te groot (hoogstens 16 kB).' : 'Het bestand is te groot (hoogstens 8 MB).');
  }
  const type = headers['content-type'];
  if (!type || (type.multiValue && type.multiValue.length > 1) || !contentType.test(type.value)) {
    return page(415, 'Unsupported Media Type', contentType === JSON_TYPE ?
      'Het postvak neemt alleen berichten van de gezinspagina aan (application/json).' :
      'Het postvak neemt hier alleen foto\'s van de editor aan (image/jpeg).');
  }
  if (found.length > 1) {
    return page(400, 'Bad Request', 'Op dit apparaat zijn meerdere inloglinks geopend. ' +
      '<a href="/uitloggen/">Log uit</a> en open uw eigen link opnieuw.');
  }
  if (!found.length || (found[0][0] !== '/' && found[0][0] !== home)) {
    return page(403, 'Forbidden', 'Open eerst uw persoonlijke inloglink.');
  }
  request.uri = home + 'postvak/' + found[0][1] + '/' + tail;
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
  const query = request.querystring || {};
  const inSection = isProtected(uri);
  if (hasSignedUrl(query) || (inSection && Object.keys(query).length)) {
    return forbidden('Dit adres werkt alleen zonder iets achter het vraagteken (?). ' +
      'Open de pagina via uw persoonlijke inloglink.');
  }
  const inPostvak = POSTVAK.test(uri) || TEAM_POSTVAK.test(uri);
  const put = inPostvak && request.method === 'PUT' ? SUBMISSION.exec(uri) : null;
  const teamPut = inPostvak && request.method === 'PUT' ? TEAM_FILE.exec(uri) : null;
  if (inPostvak && !put && !teamPut) {
    return page(405, 'Method Not Allowed', 'Het postvak neemt alleen nieuwe berichten aan.',
      'PUT');
  }
  if (!inPostvak && request.method !== 'GET' && request.method !== 'HEAD') {
    return page(405, 'Method Not Allowed', 'Deze pagina kan alleen gelezen worden.',
      'GET, HEAD');
  }
  let found = [];
  if (inSection) {
    found = logins(request.cookies || {});
    if (!found) {
      return forbidden('De inloggegevens op dit apparaat zijn onleesbaar of niet van de ' +
        'school. Log uit en open uw persoonlijke inloglink opnieuw.');
    }
    for (let i = 0; i < found.length; i++) {
      let isRevoked;
      try {
        isRevoked = await revoked.exists(found[i][1]);
      } catch (error) {
        return page(503, 'Service Unavailable', 'Even geen verbinding; probeer het zo opnieuw.');
      }
      if (isRevoked) {
        return forbidden('Deze inloglink is ingetrokken. Vraag de school om een nieuwe link.');
      }
    }
  }
  if (put) {
    return submission(request, found, '/gezin/' + put[1] + '/', put[2] + '.json', MAX_BODY,
      JSON_TYPE);
  }
  if (teamPut) {
    return submission(request, found, '/team/' + teamPut[1] + '/', teamPut[2] + '/' + teamPut[3],
      TEAM_MAX_BODY, teamPut[3] === 'manifest.json' ? JSON_TYPE : JPEG_TYPE);
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
