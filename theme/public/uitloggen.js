// Schoolplein logout: clears every CloudFront login cookie on this device.
// First-party, no dependencies. A cookie with Path=/groep/x/ is invisible on
// this page, so login.js remembers (localStorage) every path it set; each is
// overwritten here with an empty, expired cookie. /, the protected roots and
// the school section are cleared as well, and so are the family page's
// remembered postvak receipts (both targets load this page).
(function () {
  'use strict';

  var STORE = 'schoolplein.login';
  var NAMES = ['CloudFront-Policy', 'CloudFront-Signature', 'CloudFront-Key-Pair-Id'];
  var ALWAYS = ['/', '/school/', '/groep/', '/gezin/', '/archief/'];
  var PATH = /^\/[a-z0-9\/-]*$/;

  function remembered() {
    try {
      var saved = JSON.parse(localStorage.getItem(STORE) || 'null');
      localStorage.removeItem(STORE);
      return saved && Array.isArray(saved.paths) ? saved.paths : [];
    } catch (e) {
      return [];
    }
  }

  // What the family page's postvak remembered on this device (ids and short labels of what
  // was sent, for "ontvangen, nog niet verwerkt") goes too.
  function forgetReceipts() {
    try {
      for (var i = localStorage.length - 1; i >= 0; i--) {
        var key = localStorage.key(i);
        if (key && key.indexOf('schoolplein.postvak:') === 0) {
          localStorage.removeItem(key);
        }
      }
    } catch (e) {
      // storage switched off: nothing was remembered
    }
  }

  function logout() {
    var paths = ALWAYS.concat(remembered());
    for (var i = 0; i < paths.length; i++) {
      if (typeof paths[i] !== 'string' || !PATH.test(paths[i])) {
        continue;
      }
      for (var j = 0; j < NAMES.length; j++) {
        document.cookie = NAMES[j] + '=; Path=' + paths[i] + '; Max-Age=0; SameSite=Lax; Secure';
      }
    }
    forgetReceipts();
    var status = document.getElementById('status');
    status.textContent = 'U bent uitgelogd op dit apparaat.';
    status.className = 'ok';
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', logout);
  } else {
    logout();
  }
}());
