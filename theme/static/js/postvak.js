// Schoolplein postvak: the family page's forms, each sent as one small JSON document with a PUT
// to this family's own postvak (/gezin/<id>/postvak/<uuid>.json). First-party, no dependencies
// (CSP script-src 'self'). The server decides who sent it (the login) and for which family
// (the path); the receipt shows the server's time (the response's Date header). Ids of what
// this device sent are remembered (localStorage, no message text) so that a reload shows them
// as "ontvangen, nog niet verwerkt" until the page lists them.
(function () {
  'use strict';

  var MAX_BODY = 16 * 1024;
  var KEEP_MS = 60 * 24 * 3600 * 1000;
  var KEEP_MAX = 50;
  var MAX_SCHOOL_DAYS = 14;
  var TZ = 'Europe/Amsterdam';
  var BASE_RE = /^\/gezin\/[a-z0-9]{16,40}\/postvak\/$/;
  var ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  var PENDING = 'ontvangen, nog niet verwerkt';

  var root, base, storeKey, phone, telHref;

  // --- small helpers -------------------------------------------------------------------------

  function uuid4() {
    if (window.crypto && typeof crypto.randomUUID === 'function') {
      return crypto.randomUUID();
    }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); })
      .join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) +
      '-' + h.slice(20);
  }

  // One formatter per set of options: making one loads the locale's data, which on a slow
  // phone is a long task of its own (Lighthouse counts it as blocking time).
  var formatters = {};

  function parts(date, options) {
    var key = JSON.stringify(options);
    var format = formatters[key] || (formatters[key] = new Intl.DateTimeFormat(
      'nl-NL', Object.assign({timeZone: TZ}, options)));
    var found = {};
    format.formatToParts(date).forEach(function (p) { found[p.type] = p.value; });
    return found;
  }

  // 'donderdag 26 november 2026 om 07.12 uur', school time.
  function dutchMoment(date) {
    var p = parts(date, {weekday: 'long', day: 'numeric', month: 'long', year: 'numeric',
                         hour: '2-digit', minute: '2-digit', hourCycle: 'h23'});
    return p.weekday + ' ' + p.day + ' ' + p.month + ' ' + p.year + ' om ' + p.hour + '.' +
      p.minute + ' uur';
  }

  function dutchDay(iso) {
    var p = parts(new Date(iso + 'T12:00:00Z'), {weekday: 'long', day: 'numeric', month: 'long'});
    return p.weekday + ' ' + p.day + ' ' + p.month;
  }

  // Today in school time as YYYY-MM-DD.
  function today() {
    var p = parts(new Date(), {year: 'numeric', month: '2-digit', day: '2-digit'});
    return p.year + '-' + p.month + '-' + p.day;
  }

  function addDays(iso, n) {
    var d = new Date(iso + 'T12:00:00Z');
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }

  function weekday(iso) {
    return new Date(iso + 'T12:00:00Z').getUTCDay();  // 0 = Sunday
  }

  function schoolDays(from, to) {
    var n = 0;
    for (var d = from; d <= to; d = addDays(d, 1)) {
      if (weekday(d) !== 0 && weekday(d) !== 6) {
        n++;
      }
    }
    return n;
  }

  function nextSchoolDay(iso) {
    while (weekday(iso) === 0 || weekday(iso) === 6) {
      iso = addDays(iso, 1);
    }
    return iso;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function telLink() {
    var a = el('a', '', phone);
    a.href = telHref;
    return a;
  }

  function checked(form, name) {
    return form.querySelector('input[name="' + name + '"]:checked');
  }

  // --- remembered submissions ----------------------------------------------------------------

  function remembered() {
    try {
      var list = JSON.parse(localStorage.getItem(storeKey) || '[]');
      return Array.isArray(list) ? list.filter(function (r) {
        return r && typeof r.id === 'string' && ID_RE.test(r.id) && typeof r.label === 'string';
      }) : [];
    } catch (e) {
      return [];
    }
  }

  function remember(list) {
    try {
      localStorage.setItem(storeKey, JSON.stringify(list.slice(-KEEP_MAX)));
    } catch (e) {
      // storage full or switched off: the receipt on screen is all the parent gets
    }
  }

  function listed(id) {
    var items = document.querySelectorAll('[data-thread] [data-id]');
    for (var i = 0; i < items.length; i++) {
      var shown = items[i].getAttribute('data-id');
      if (!items[i].hasAttribute('data-pending') &&
          (shown === id || shown.indexOf(id + '.') === 0)) {
        return true;
      }
    }
    return false;
  }

  function showPending(record) {
    var thread = document.querySelector('[data-thread]');
    if (!thread || thread.querySelector('[data-pending][data-id="' + record.id + '"]')) {
      return;
    }
    var empty = thread.querySelector('.empty');
    if (empty) {
      empty.remove();
    }
    var li = el('li', 'turn home pending');
    li.setAttribute('data-id', record.id);
    li.setAttribute('data-pending', '');
    var meta = el('p', 'meta', 'Verstuurd vanaf dit apparaat');
    if (record.at) {
      meta.textContent += ' · ';
      var time = el('time', '', dutchMoment(new Date(record.at)));
      time.setAttribute('datetime', record.at);
      meta.appendChild(time);
    }
    li.appendChild(meta);
    li.appendChild(el('p', 'summary', record.label));
    li.appendChild(el('p', 'status', 'Status: ' + PENDING));
    thread.appendChild(li);
  }

  function restore() {
    var now = Date.now();
    var keep = remembered().filter(function (r) {
      return !listed(r.id) && now - (Date.parse(r.at || r.sent) || 0) < KEEP_MS;
    });
    remember(keep);
    keep.forEach(showPending);
  }

  // --- the three forms: JSON body and a short label for the receipt -------------------------

  function Invalid(message, field) {
    this.message = message;
    this.field = field;
  }

  var build = {
    afwezigheid: function (form) {
      var child = checked(form, 'kind');
      if (!child) {
        throw new Invalid('Kies welk kind afwezig is.', form.querySelector('input[name="kind"]'));
      }
      var body = {v: 1, soort: 'afwezigheid', kind: child.value};
      var first = nextSchoolDay(today());  // what the server takes when no day is sent
      var when = first === today() ? 'vandaag' : dutchDay(first);
      if (checked(form, 'wanneer').value === 'periode') {
        var from = form.elements.van, to = form.elements.tot;
        if (!from.value) {
          throw new Invalid('Vul in vanaf welke dag.', from);
        }
        if (!to.value) {
          to.value = from.value;
        }
        if (to.value < from.value) {
          throw new Invalid('‘Tot en met’ ligt vóór ‘Van’.', to);
        }
        if (from.value < addDays(today(), -7)) {
          throw new Invalid('U kunt tot een week terug melden. Bel de school voor een eerdere dag.',
                            from);
        }
        var days = schoolDays(from.value, to.value);
        if (days === 0) {
          throw new Invalid('Die dagen vallen in het weekend.', from);
        }
        if (days > MAX_SCHOOL_DAYS) {
          throw new Invalid('Dat zijn ' + days + ' schooldagen. Langer dan ' + MAX_SCHOOL_DAYS +
                            ' schooldagen? Bel de school.', to);
        }
        body.van = from.value;
        body.tot = to.value;
        when = from.value === to.value ? dutchDay(from.value)
          : dutchDay(from.value) + ' t/m ' + dutchDay(to.value);
      }
      var reason = checked(form, 'reden');
      if (!reason) {
        throw new Invalid('Kies een reden.', form.querySelector('input[name="reden"]'));
      }
      body.reden = reason.value;
      var note = form.elements.toelichting.value;
      if (note.trim()) {
        body.toelichting = note;
      }
      // The label is remembered on the device: no reason (health) and no note in it.
      return {body: body, label: 'Afwezigheid ' + child.getAttribute('data-name') + ': ' + when};
    },
    bericht: function (form) {
      var to = form.elements.aan;
      if (!to.value) {
        throw new Invalid('Kies aan wie het bericht is.', to);
      }
      var text = form.elements.tekst;
      if (!text.value.trim()) {
        throw new Invalid('Schrijf uw bericht.', text);
      }
      return {body: {v: 1, soort: 'bericht', aan: to.value, tekst: text.value},
              label: 'Bericht aan ' + to.selectedOptions[0].getAttribute('data-name')};
    },
    beeldgebruik: function (form) {
      var choice = checked(form, 'keuze');
      if (!choice) {
        throw new Invalid('Kies een van de drie mogelijkheden.',
                          form.querySelector('input[name="keuze"]'));
      }
      return {body: {v: 1, soort: 'beeldgebruik', kind: form.getAttribute('data-kind'),
                     keuze: choice.value},
              label: 'Beeldgebruik ' + form.getAttribute('data-name') + ': ' +
                choice.getAttribute('data-name')};
    },
    meldingen: function (form) {
      var choice = checked(form, 'keuze');
      if (!choice) {
        throw new Invalid('Kies hoe vaak u een mail wilt.', form.querySelector('input[name="keuze"]'));
      }
      var body = {v: 1, soort: 'meldingen', keuze: choice.value};
      var label = 'Mails van school: ' + choice.getAttribute('data-name');
      if (choice.value === 'wekelijks') {
        body.dag = form.elements.dag.value;
        label += ', op ' + body.dag;
      }
      return {body: body, label: label};
    },
    agenda: function (form) {
      var action = form.getAttribute('data-actie');
      return {body: {v: 1, soort: 'agenda', actie: action},
              label: action === 'nieuw' ? 'Nieuw agenda-adres' : 'Agenda-adres mailen'};
    }
  };

  // --- sign-ups and leave (issue 20): each form's body and a label without personal detail --

  build.hulpouder = function (form) {
    var action = checked(form, 'actie');
    return {body: {v: 1, soort: 'hulpouder', activiteit: form.getAttribute('data-activiteit'),
                   actie: action.value},
            label: 'Hulpouder ' + form.getAttribute('data-name') + ': ' +
              action.getAttribute('data-name')};
  };

  build.gesprek = function (form) {
    var body = {v: 1, soort: 'gesprek', activiteit: form.getAttribute('data-activiteit'),
                kind: form.getAttribute('data-kind')};
    var name = form.getAttribute('data-name');
    if (form.dataset.submitter === 'afzeggen') {
      body.actie = 'afzeggen';
      return {body: body, label: 'Oudergesprek ' + name + ': afzeggen'};
    }
    var moment = form.elements.moment;
    if (!moment.value) {
      throw new Invalid('Kies een moment voor het gesprek.', moment);
    }
    body.actie = 'boeken';
    body.moment = moment.value;
    return {body: body, label: 'Oudergesprek ' + name + ': ' +
      moment.selectedOptions[0].getAttribute('data-name')};
  };

  build.verlof = function (form) {
    var child = checked(form, 'kind');
    if (!child) {
      throw new Invalid('Kies voor welk kind.', form.querySelector('input[name="kind"]'));
    }
    var from = form.elements.van, to = form.elements.tot;
    if (!from.value) {
      throw new Invalid('Vul de eerste dag in.', from);
    }
    if (!to.value) {
      to.value = from.value;
    }
    if (to.value < from.value) {
      throw new Invalid('De laatste dag ligt vóór de eerste.', to);
    }
    var reason = checked(form, 'reden');
    if (!reason) {
      throw new Invalid('Kies een reden.', form.querySelector('input[name="reden"]'));
    }
    if (reason.value === 'vakantie' && from.value < addDays(today(), 56)) {
      throw new Invalid('Vakantieverlof vraagt u minstens 8 weken van tevoren aan.', from);
    }
    if (reason.value === 'vakantie' && !form.elements.werkgeversverklaring.checked) {
      throw new Invalid('Voor vakantieverlof is een werkgeversverklaring nodig.',
                        form.elements.werkgeversverklaring);
    }
    var note = form.elements.toelichting;
    if (reason.value === 'gewichtig' && !note.value.trim()) {
      throw new Invalid('Schrijf kort wat er is.', note);
    }
    var body = {v: 1, soort: 'verlof', kind: child.value, van: from.value, tot: to.value,
                reden: reason.value, werkgeversverklaring: form.elements.werkgeversverklaring.checked};
    if (note.value.trim()) {
      body.toelichting = note.value;
    }
    var when = from.value === to.value ? dutchDay(from.value)
      : dutchDay(from.value) + ' t/m ' + dutchDay(to.value);
    // remembered on the device: no reason in the label
    return {body: body, label: 'Verlofaanvraag ' + child.getAttribute('data-name') + ': ' + when};
  };

  // A sign-up whose deadline passed while the page was open: the form closes (the school
  // refuses a late one anyway, with the reason on this page).
  function closeLate() {
    document.querySelectorAll('.signup[data-tot]').forEach(function (box) {
      var until = Date.parse(box.getAttribute('data-tot'));
      if (isNaN(until) || Date.now() <= until) {
        return;
      }
      box.querySelectorAll('form.postvak').forEach(function (form) {
        form.hidden = true;
      });
      if (!box.querySelector('.closed')) {
        box.appendChild(el('p', 'closed', 'De inschrijving is gesloten.'));
      }
    });
  }

  // --- sending -------------------------------------------------------------------------------

  function say(form, kind, nodes) {
    var receipt = form.querySelector('.receipt'), error = form.querySelector('.error');
    receipt.textContent = '';
    error.textContent = '';
    var target = kind === 'ok' ? receipt : kind === 'error' ? error : null;
    if (target) {
      var p = el('p');
      nodes.forEach(function (n) {
        p.appendChild(typeof n === 'string' ? document.createTextNode(n) : n);
      });
      target.appendChild(p);
    }
  }

  function failure(status) {
    switch (status) {
      case 400:  // CloudFront: more than one login link opened on this device
        return ['De school kon dit niet aannemen. Log uit, open uw eigen inloglink opnieuw en ' +
                'verstuur het daarna nog eens; uw tekst blijft hier staan.'];
      case 401:
        return ['U bent niet (meer) ingelogd. Log opnieuw in en verstuur het daarna nog eens; ' +
                'uw tekst blijft hier staan.'];
      case 403:
        return ['U kunt hier niets versturen: alleen de ouders van dit gezin kunnen dat.'];
      case 409:
      case 412:
        return ['Dit kenmerk bestond al bij de school. Verstuur het nog eens; het krijgt dan ' +
                'een nieuw kenmerk.'];
      case 413:
        return ['Uw bericht is te groot om te versturen. Maak de tekst korter.'];
      case 429:
        return ['U heeft in korte tijd veel verstuurd. Wacht een paar minuten en probeer het ' +
                'dan opnieuw. Dringend? Bel de school: ', telLink(), '.'];
      case 0:
        return ['Versturen is niet gelukt: er is geen verbinding met de school. Controleer uw ' +
                'internet en probeer het opnieuw; uw tekst staat er nog. Dringend? Bel ',
                telLink(), '.'];
      default:
        return ['Versturen is niet gelukt (foutcode ' + status + '). Probeer het later opnieuw ' +
                'of bel de school: ', telLink(), '.'];
    }
  }

  function received(form, id, label, serverDate, again) {
    var when = serverDate && !isNaN(Date.parse(serverDate)) ? new Date(serverDate) : null;
    var record = {id: id, label: label, at: when ? when.toISOString() : null,
                  sent: new Date().toISOString()};
    var list = remembered().filter(function (r) { return r.id !== id; });
    list.push(record);
    remember(list);
    showPending(record);
    var text = again ? 'Dit was al goed aangekomen bij de school.'
      : when ? 'Ontvangen door de school op ' + dutchMoment(when) + '.'
        : 'Ontvangen door de school.';
    say(form, 'ok', [text + ' U ziet het bij ‘Gesprek met school’; de status verandert als ' +
                     'het verwerkt is. Kenmerk: ' + id.slice(0, 8) + '.']);
    delete form.dataset.pendingId;
    delete form.dataset.pendingBody;
    if (['beeldgebruik', 'meldingen'].indexOf(form.getAttribute('data-soort')) < 0) {
      form.reset();
      form.dispatchEvent(new Event('change'));
      form.querySelectorAll('textarea').forEach(function (t) {
        t.dispatchEvent(new Event('input'));
      });
    }
  }

  function send(event) {
    event.preventDefault();
    var form = event.currentTarget;
    form.dataset.submitter = (event.submitter && event.submitter.value) || '';
    var button = (event.submitter && event.submitter.form === form && event.submitter) ||
      form.querySelector('button[type="submit"]');
    if (form.getAttribute('aria-busy') === 'true') {
      return;  // double submit: the first one is still under way
    }
    var built;
    try {
      built = build[form.getAttribute('data-soort')](form);
    } catch (e) {
      if (!(e instanceof Invalid)) {
        throw e;
      }
      say(form, 'error', [e.message]);
      if (e.field) {
        e.field.focus();
      }
      return;
    }
    var json = JSON.stringify(built.body);
    if (new Blob([json]).size > MAX_BODY) {
      say(form, 'error', failure(413));
      return;
    }
    // The same content again after a failed try keeps its id: if the first try did arrive,
    // the school refuses the name (409/412) and nothing arrives twice.
    var again = form.dataset.pendingBody === json && !!form.dataset.pendingId;
    var id = again ? form.dataset.pendingId : uuid4();
    form.dataset.pendingId = id;
    form.dataset.pendingBody = json;
    form.setAttribute('aria-busy', 'true');
    button.disabled = true;
    var label = button.textContent;
    button.textContent = 'Bezig met versturen…';
    say(form, 'none', []);
    fetch(base + id + '.json', {
      method: 'PUT',
      headers: {'Content-Type': 'application/json', 'If-None-Match': '*'},
      body: json,
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error'
    }).then(function (response) {
      if (response.ok) {
        received(form, id, built.label, response.headers.get('Date'), false);
      } else if ((response.status === 409 || response.status === 412) && again) {
        received(form, id, built.label, null, true);
      } else {
        if (response.status === 409 || response.status === 412) {
          delete form.dataset.pendingId;
        }
        say(form, 'error', failure(response.status));
      }
    }, function () {
      say(form, 'error', failure(0));
    }).then(function () {
      form.removeAttribute('aria-busy');
      button.disabled = false;
      button.textContent = label;
    });
  }

  // --- wiring --------------------------------------------------------------------------------

  function counters() {
    document.querySelectorAll('[data-counter]').forEach(function (counter) {
      var field = document.getElementById(counter.getAttribute('data-counter'));
      var update = function () {
        var left = field.maxLength - field.value.length;
        counter.textContent = left === 1 ? 'Nog 1 teken' : 'Nog ' + left + ' tekens';
      };
      field.addEventListener('input', update);
      update();
    });
  }

  function absenceDays(form) {
    var day = today(), first = nextSchoolDay(day);
    var label = form.querySelector('[data-today]');
    label.textContent = first === day ? 'Vandaag (' + dutchDay(day) + ')'
      : dutchDay(first) + ' (de eerstvolgende schooldag)';
    var period = form.querySelector('[data-period]');
    ['van', 'tot'].forEach(function (name) {
      form.elements[name].min = addDays(day, -7);
      form.elements[name].max = addDays(day, 365);
    });
    var toggle = function () {
      var open = checked(form, 'wanneer').value === 'periode';
      period.hidden = !open;
      if (open && !form.elements.van.value) {
        form.elements.van.value = first;
      }
    };
    form.addEventListener('change', toggle);
    toggle();
  }

  function start() {
    root = document.getElementById('postvak');
    base = root && root.getAttribute('data-postvak');
    if (!base || !BASE_RE.test(base) || typeof fetch !== 'function') {
      return;  // no postvak here, or a browser too old: the page's phone number still works
    }
    storeKey = 'schoolplein.postvak:' + root.getAttribute('data-family');
    phone = root.getAttribute('data-phone');
    telHref = root.getAttribute('data-tel');
    document.querySelectorAll('form.postvak').forEach(function (form) {
      form.addEventListener('submit', send);
      if (form.getAttribute('data-soort') === 'afwezigheid') {
        absenceDays(form);
      }
    });
    counters();
    restore();
    closeLate();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
