// Schoolplein: a staff member's answer on a family page. The page is the same for everyone
// who may read it; this script asks the server who is logged in (/mijn/ sends staff to
// their own /team/<staff-id>/; on CloudFront the login link remembered that home). Staff
// get the answer form instead of the parents' forms (which would only be quarantined), and
// the answer goes through the staff postvak like a post: one manifest, PUT, write-only.
(function () {
  'use strict';

  var TEAM = /^\/team\/([a-z0-9][a-z0-9_-]*)\/$/;

  // a secure context (HTTPS, or 127.0.0.1 in the demo) has crypto.randomUUID
  function uuid4() { return crypto.randomUUID(); }

  function remembered() {
    try {
      var login = JSON.parse(localStorage.getItem('schoolplein.login') || 'null');
      var found = login && typeof login.home === 'string' && TEAM.exec(login.home);
      return found ? found[1] : null;
    } catch (e) {
      return null;
    }
  }

  function staffId() {
    return fetch('/mijn/', {credentials: 'same-origin', cache: 'no-store'}).then(function (r) {
      var found = TEAM.exec(new URL(r.url).pathname);
      return found ? found[1] : remembered();
    }, remembered);
  }

  function show(box, text) {
    box.textContent = '';
    if (text) {
      var p = document.createElement('p');
      p.textContent = text;
      box.appendChild(p);
    }
  }

  function start() {
    var section = document.querySelector('[data-team-answer]');
    if (!section) { return; }
    staffId().then(function (staff) {
      if (!staff) { return; }
      // the parents' forms (both groups of screens) and their shortcuts
      Array.prototype.forEach.call(document.querySelectorAll('.screens, #postvak'),
        function (node) { node.hidden = true; });
      section.hidden = false;
      var form = section.querySelector('form');
      var text = form.querySelector('textarea');
      var button = form.querySelector('button');
      var receipt = form.querySelector('.receipt');
      var error = form.querySelector('.error');
      var ident = null;
      text.addEventListener('input', function () { ident = null; });
      form.addEventListener('submit', function (event) {
        event.preventDefault();
        show(error, '');
        if (!text.value.trim()) { show(error, 'Schrijf eerst uw antwoord.'); return; }
        ident = ident || uuid4();
        button.disabled = true;
        var body = JSON.stringify({v: 1, soort: 'antwoord', gezin: section.dataset.family,
                                   tekst: text.value});
        fetch('/team/' + staff + '/postvak/' + ident + '/manifest.json', {
          method: 'PUT', body: body, credentials: 'same-origin',
          headers: {'Content-Type': 'application/json'}
        }).then(function (r) {
          if (!r.ok && r.status !== 409 && r.status !== 412) {  // S3 answers 200
            throw new Error(r.status === 401 ? 'U bent niet (meer) ingelogd; herlaad de pagina.' :
              'De server weigerde het antwoord (' + r.status + '). Probeer het zo opnieuw.');
          }
          var at = new Date(r.headers.get('Date') || Date.now()).toLocaleTimeString('nl-NL',
            {hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Amsterdam'});
          show(receipt, 'Ontvangen om ' + at + '. Uw antwoord staat hieronder in het gesprek na ' +
            'de volgende verwerking (meestal binnen een paar minuten); de ouders krijgen dan een mail.');
          button.textContent = 'Verstuurd';
        }, function () {
          throw new Error('Geen verbinding. Tik opnieuw op versturen; er komt niets dubbel.');
        }).catch(function (e) {
          button.disabled = false;
          show(error, e.message);
        });
      });
    });
  }

  // Not needed for the first screen: after the page has loaded, in a task of its own, so the
  // phone shows the page first (and the parents' forms are wired by then: postvak.js).
  function later() { setTimeout(start, 0); }

  if (document.readyState === 'complete') {
    later();
  } else {
    window.addEventListener('load', later);
  }
}());
