import cf from 'cloudfront';

// Schoolplein viewer-request function (CloudFront Functions, cloudfront-js-2.0),
// on every cache behaviour. publish/provision.py puts this file into the
// CloudFormation template; it is tested with node (tests/cloudfront).
//  1. A URI whose meaning changes when S3 decodes it is refused with 400: an
//     encoded slash or backslash, a dot segment (also encoded), NUL, a double
//     encoding. Otherwise /groep%2Fgroep-3/ would slip past the /groep/*
//     behaviour (and its signed-cookie check) into the open default one.
//  2. A login cookie of a revoked link is refused with 403. Each person's
//     links expire at their own second; the key value store holds the expiry
//     seconds of revoked people ('invoke publish --target cloudfront' keeps it).
//  3. /dir/ -> /dir/index.html; /dir -> 301 to /dir/ (cookie paths end in /).

const revoked = cf.kvs();
const PROTECTED = /^\/(school|groep|gezin)\//;
const BAD_ESCAPE = /%(?:2f|5c|2e|00|25)|%(?![0-9a-f]{2})/i;
const BAD_CHAR = /[\\\u0000-\u001f\u007f]/;
// CloudFront's URL-safe base64 alphabet ('-' for '+', '~' for '/', '_' pads).
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~';

function badUri(uri) {
  if (typeof uri !== 'string' || uri.charAt(0) !== '/' || BAD_ESCAPE.test(uri) ||
      BAD_CHAR.test(uri) || uri.indexOf('//') !== -1) {
    return true;
  }
  const segments = uri.split('/');
  for (let i = 0; i < segments.length; i++) {
    if (segments[i] === '.' || segments[i] === '..') {
      return true;
    }
  }
  return false;
}

// The expiry second in a CloudFront-Policy cookie, or '' if it holds none.
// CloudFront itself checks the signature; this only reads the policy.
function policyExpiry(value) {
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
  const found = /"AWS:EpochTime":([0-9]{1,12})\}/.exec(text);
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

function page(statusCode, statusDescription, text) {
  return {
    statusCode: statusCode,
    statusDescription: statusDescription,
    headers: {
      'content-type': { value: 'text/html; charset=utf-8' },
      'cache-control': { value: 'no-store' }
    },
    body: {
      encoding: 'text',
      data: '<!doctype html><html lang="nl"><meta charset="utf-8"><title>' +
        statusDescription + '</title><p>' + text + '</p></html>'
    }
  };
}

async function handler(event) {
  const request = event.request;
  const uri = request.uri;
  if (badUri(uri)) {
    return page(400, 'Bad Request', 'Dit adres is ongeldig. <a href="/">Naar de voorpagina</a>');
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
