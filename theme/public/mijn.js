// Schoolplein "Mijn gezin": opens the home page that login.js remembered on
// this device (the family page for parents, the school news for staff), while
// the login is still valid; otherwise explains how to log in.
(function () {
  'use strict';

  var STORE = 'schoolplein.login';
  var HOME = /^\/(school|gezin\/[a-z0-9]{16,40}|team\/[a-z0-9][a-z0-9_-]*|archief\/[0-9]{4}-[0-9]{4}\/[a-z0-9-]+)\/$/;

  function saved() {
    try {
      return JSON.parse(localStorage.getItem(STORE) || 'null');
    } catch (e) {
      return null;
    }
  }

  function open() {
    var login = saved();
    var status = document.getElementById('status');
    if (login && typeof login.home === 'string' && HOME.test(login.home) &&
        parseInt(login.expires, 10) > Date.now() / 1000) {
      status.textContent = 'U gaat naar uw eigen pagina…';
      document.getElementById('home').setAttribute('href', login.home);
      document.getElementById('next').hidden = false;
      location.replace(login.home);
      return;
    }
    status.textContent = 'U bent op dit apparaat niet (meer) ingelogd. Open uw persoonlijke ' +
      'inloglink om in te loggen; daarna brengt deze pagina u naar uw gezinspagina.';
    status.className = 'info';
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', open);
  } else {
    open();
  }
}());
