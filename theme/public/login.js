// Schoolplein login: turns the fragment of a personal link into CloudFront cookies.
// First-party, no dependencies, loaded as a file (CSP: script-src 'self').
// The fragment (#...) is never sent to any server; we remove it from the
// address bar and history before doing anything else.
// It remembers (localStorage, this device only) which cookie paths it set and
// the home page: /uitloggen/ clears exactly those cookies, /mijn/ opens home.
(function () {
  'use strict';

  var PREFIX = /^\/((school|groep\/[a-z0-9]+(-[a-z0-9]+)*|gezin\/[a-z0-9]{16,40}|team(\/[a-z0-9][a-z0-9_-]*)?|personeel\/[a-z0-9]+(-[a-z0-9]+)*|archief\/[0-9]{4}-[0-9]{4}\/[a-z0-9]+(-[a-z0-9]+)*)\/)?$/; // '/' = every section
  var HOME = /^\/[a-z0-9\/-]*\/$/;
  var DOMAIN = /^[a-z0-9.-]+(:[0-9]+)?$/i;
  var KEY_ID = /^[A-Z0-9]+$/;
  var SIGNATURE = /^[A-Za-z0-9~-]{80,344}_{0,2}$/; // ECDSA P-256 (DER) or RSA 2048
  var PART = /^([1-9][0-9]?)\.([1-9][0-9]?)$/;
  var STORE = 'schoolplein.login';

  function show(id, text) {
    var status = document.getElementById('status');
    status.textContent = text;
    status.className = id;
  }

  // CloudFront's URL-safe base64: + -> -, = -> _, / -> ~
  function cfBase64(text) {
    return btoa(text).replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~');
  }

  // Must equal publish/cloudfront_signing.py custom_policy() byte for byte.
  function policy(domain, prefix, expires) {
    return '{"Statement":[{"Resource":"https://' + domain + prefix +
      '*","Condition":{"DateLessThan":{"AWS:EpochTime":' + expires + '}}}]}';
  }

  function parse(fragment) {
    var params = new URLSearchParams(fragment);
    var link = {
      domain: params.get('d') || '',
      expires: params.get('e') || '',
      keyId: params.get('k') || '',
      home: params.get('h') || '',
      part: 1,
      parts: 1,
      sets: []
    };
    if (params.get('v') !== '1' || !DOMAIN.test(link.domain) || !/^[0-9]{9,11}$/.test(link.expires) ||
        !KEY_ID.test(link.keyId) || !HOME.test(link.home) || link.home.indexOf('//') !== -1) {
      return null;
    }
    if (params.get('p') !== null) {
      var part = PART.exec(params.get('p'));
      if (!part || +part[1] > +part[2]) {
        return null;
      }
      link.part = +part[1];
      link.parts = +part[2];
    }
    var cookies = params.getAll('c');
    for (var i = 0; i < cookies.length; i++) {
      var dot = cookies[i].lastIndexOf('.');
      var prefix = cookies[i].slice(0, dot);
      var signature = cookies[i].slice(dot + 1);
      if (dot < 1 || !PREFIX.test(prefix) || !SIGNATURE.test(signature)) {
        return null;
      }
      link.sets.push({ prefix: prefix, signature: signature });
    }
    return link.sets.length ? link : null;
  }

  function setCookie(name, value, path, maxAge) {
    document.cookie = name + '=' + value + '; Path=' + path + '; Max-Age=' + maxAge +
      '; SameSite=Lax; Secure';
  }

  // Every path ever set on this device is kept (parts of a link add up, the paths
  // of an older link stay), so logging out clears them all.
  function remember(link) {
    try {
      var saved = JSON.parse(localStorage.getItem(STORE) || 'null');
      var paths = saved && Array.isArray(saved.paths) ? saved.paths : [];
      for (var i = 0; i < link.sets.length; i++) {
        if (paths.indexOf(link.sets[i].prefix) === -1) {
          paths.push(link.sets[i].prefix);
        }
      }
      localStorage.setItem(STORE, JSON.stringify({ home: link.home, expires: link.expires,
        paths: paths }));
    } catch (e) {
      // No storage (private mode): logging in still works; /mijn/ and /uitloggen/ explain.
    }
  }

  function login() {
    var fragment = location.hash.replace(/^#/, '');
    if (fragment) {
      history.replaceState(null, '', location.pathname + location.search);
    }
    if (!fragment) {
      show('info', 'Open uw persoonlijke inloglink uit de brief of e-mail van school ' +
        'om in te loggen.');
      return;
    }
    if (!window.isSecureContext) {
      show('error', 'Deze pagina moet via een beveiligde verbinding (https://) worden geopend. ' +
        'Open uw persoonlijke link opnieuw.');
      return;
    }
    var link = parse(fragment);
    if (!link) {
      show('error', 'Deze inloglink is niet compleet of beschadigd. Kopieer de hele link uit ' +
        'de e-mail of scan de QR-code uit uw brief opnieuw. Lukt het niet? Vraag de school ' +
        'om een nieuwe link.');
      return;
    }
    var maxAge = parseInt(link.expires, 10) - Math.floor(Date.now() / 1000);
    if (maxAge <= 0) {
      var until = new Date(parseInt(link.expires, 10) * 1000).toLocaleDateString('nl-NL');
      show('error', 'Deze inloglink is verlopen (hij werkte tot ' + until + '). ' +
        'Vraag de school om een nieuwe link.');
      return;
    }
    for (var i = 0; i < link.sets.length; i++) {
      var set = link.sets[i];
      setCookie('CloudFront-Policy', cfBase64(policy(link.domain, set.prefix, link.expires)),
        set.prefix, maxAge);
      setCookie('CloudFront-Signature', set.signature, set.prefix, maxAge);
      setCookie('CloudFront-Key-Pair-Id', link.keyId, set.prefix, maxAge);
    }
    remember(link);
    var home = document.getElementById('home');
    home.setAttribute('href', link.home);
    document.getElementById('next').hidden = false;
    if (link.part < link.parts) {
      show('ok', 'Deel ' + link.part + ' van ' + link.parts + ' is gelukt. Scan nu deel ' +
        (link.part + 1) + ' uit uw brief.');
      return;
    }
    show('ok', 'U bent ingelogd. U gaat nu naar uw startpagina…');
    location.replace(link.home);
  }

  // A link pasted into a tab that already shows /login/ only changes the fragment.
  window.addEventListener('hashchange', login);
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', login);
  } else {
    login();
  }
}());
