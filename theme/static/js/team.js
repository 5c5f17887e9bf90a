// Schoolplein editor (/team/<staff-id>/nieuw/): a teacher posts from the phone. First-party,
// no dependencies (CSP script-src 'self'). Photos are scaled on the phone (long side <= 2048
// px, JPEG, which also drops every bit of metadata), tagged with chips of the section's
// children, and judged live by the build's own rule (verdict.js). Posting is a few PUTs into
// the write-only staff postvak: each photo, then a manifest naming every file with its
// SHA-256. The server decides who sent it (the login); the build stays the authority.
(function () {
  'use strict';

  var MAX_SIDE = 2048;
  var MAX_PHOTOS = 30;
  var MAX_INPUT = 40 * 1024 * 1024;  // the build's limit for an original
  var MAX_UPLOAD = 8 * 1024 * 1024;  // the staff postvak's limit per file
  var MAX_TEXT = 20000;
  var QUALITY = 0.85;
  var STORE = 'schoolplein.team.verstuurd';

  var data, form, photos = [], removed = {}, submission = null, done = false, editing = null;

  function $(sel, root) { return (root || document).querySelector(sel); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  // a secure context (HTTPS, or 127.0.0.1 in the demo) has crypto.randomUUID
  function uuid4() { return crypto.randomUUID(); }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (x) {
      return (x + 0x100).toString(16).slice(1);
    }).join('');
  }

  function section() {
    var parts = $('#sectie').value.split(':');
    return data.sections.filter(function (s) { return s.kind === parts[0] && s.key === parts[1]; })[0];
  }

  function audience(s) {
    var found = {};
    s.children.forEach(function (c) { found[c.id] = {label: c.label, consent: c.rule}; });
    return found;
  }

  function say(where, text) {
    var box = $(where, form);
    box.textContent = '';
    if (text) { box.appendChild(el('p', '', text)); }
  }

  // --- Markdown preview (a small, escaping subset; the build renders the real thing) ---------

  function inline(text) {
    var safe = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return safe.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
      .replace(/\*([^*]+)\*/g, '<em>$1</em>')
      .replace(/\[([^\]]+)\]\(((?:https?:\/\/|\/)[^)\s"]*)\)/g, '<a href="$2">$1</a>');
  }

  function preview(text) {
    return text.split(/\n\s*\n/).map(function (block) {
      var lines = block.split('\n');
      if (lines.every(function (l) { return /^\s*[-*] /.test(l); })) {
        return '<ul>' + lines.map(function (l) {
          return '<li>' + inline(l.replace(/^\s*[-*] /, '')) + '</li>';
        }).join('') + '</ul>';
      }
      var heading = /^(#{1,3}) (.*)$/.exec(block);
      if (heading) { return '<h3>' + inline(heading[2]) + '</h3>'; }
      return block.trim() ? '<p>' + inline(block).replace(/\n/g, '<br>') + '</p>' : '';
    }).join('');
  }

  // --- photos ---------------------------------------------------------------------------------

  function scale(file) {
    if (/^video\//.test(file.type)) {
      return Promise.reject(new Error('Een video kan niet; kies een foto.'));
    }
    if (file.size > MAX_INPUT) {
      return Promise.reject(new Error('Dit bestand is te groot (' +
        Math.round(file.size / 1048576) + ' MB); kies een foto van hoogstens 40 MB.'));
    }
    var decode = window.createImageBitmap ?
      createImageBitmap(file, {imageOrientation: 'from-image'}) : Promise.reject(new Error('x'));
    return decode.catch(function () {
      throw new Error(/hei[cf]$/i.test(file.name) || /hei[cf]/.test(file.type) ?
        'Deze HEIC-foto kan de browser niet lezen. Zet op de iPhone Instellingen › Camera › ' +
        'Formaten op ‘Meest compatibel’, of kies de foto via Delen.' :
        'Dit is geen leesbare foto (kapot, of geen afbeelding).');
    }).then(function (bitmap) {
      var ratio = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement('canvas');
      canvas.width = Math.round(bitmap.width * ratio);
      canvas.height = Math.round(bitmap.height * ratio);
      canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) { bitmap.close(); }
      return new Promise(function (resolve) { canvas.toBlob(resolve, 'image/jpeg', QUALITY); });
    }).then(function (blob) {
      if (!blob || blob.size > MAX_UPLOAD) {
        throw new Error('Deze foto blijft na verkleinen te groot; kies een andere.');
      }
      return blob.arrayBuffer().then(function (bytes) {
        return crypto.subtle.digest('SHA-256', bytes).then(function (digest) {
          return {blob: blob, bytes: bytes, sha256: hex(digest)};
        });
      });
    });
  }

  function addFiles(files) {
    say('[data-error]', '');
    var room = MAX_PHOTOS - photos.length;
    var list = Array.prototype.slice.call(files);
    if (list.length > room) {
      say('[data-error]', 'Hoogstens ' + MAX_PHOTOS + ' foto\'s per bericht; ' +
        (list.length - room) + ' niet toegevoegd.');
      list = list.slice(0, room);
    }
    list.forEach(function (file) {
      var photo = {file: file, tags: [], regions: {}, noChildren: false, active: null,
                   node: el('li', 'photo'), ready: null, error: ''};
      photos.push(photo);
      $('[data-photos]', form).appendChild(photo.node);
      photo.node.appendChild(el('p', 'meta', file.name + ' · wordt verkleind…'));
      photo.ready = scale(file).then(function (result) {
        photo.blob = result.blob;
        photo.bytes = result.bytes;
        photo.sha256 = result.sha256;
        photo.url = URL.createObjectURL(result.blob);
      }, function (error) {
        photo.error = error.message;
      }).then(function () { render(photo); });
    });
    submission = null;  // a changed post is a new submission
  }

  function verdictOf(photo) {
    var s = section();
    return SchoolpleinVerdict.verdict({kind: s.kind, min: data.min_children,
      consentDefault: 'school', audience: audience(s), tags: photo.tags,
      noChildren: photo.noChildren});
  }

  function render(photo) {
    var node = photo.node;
    node.textContent = '';
    var index = photos.indexOf(photo) + 1;
    node.appendChild(el('p', 'meta', 'Foto ' + index + ' · ' + photo.file.name));
    if (photo.error) {
      node.appendChild(el('p', 'verdict drop', 'Niet toegevoegd: ' + photo.error));
    } else if (photo.url) {
      var frame = el('div', 'photo-frame');
      var img = el('img');
      img.src = photo.url;
      img.alt = 'Foto ' + index;
      img.addEventListener('click', function (event) { markFace(photo, img, event); });
      frame.appendChild(img);
      Object.keys(photo.regions).forEach(function (id) {
        var r = photo.regions[id];
        var face = el('span', 'face', audience(section())[id] ? audience(section())[id].label : '');
        face.style.left = (r[0] * 100) + '%';
        face.style.top = (r[1] * 100) + '%';
        face.style.width = (r[2] * 100) + '%';
        face.style.height = (r[3] * 100) + '%';
        frame.appendChild(face);
      });
      node.appendChild(frame);
      var chips = el('ul', 'chips');
      chips.setAttribute('aria-label', 'Wie staan op foto ' + index + '?');
      section().children.forEach(function (c) {
        var li = el('li');
        var chip = el('button', c.consent === 'allowed' ? '' : 'no-consent', c.label);
        chip.type = 'button';
        chip.dataset.child = c.id;
        chip.title = c.text;
        chip.setAttribute('aria-pressed', photo.tags.indexOf(c.id) >= 0 ? 'true' : 'false');
        chip.addEventListener('click', function () { toggle(photo, c.id); });
        li.appendChild(chip);
        chips.appendChild(li);
      });
      var none = el('button', 'none', 'geen herkenbare kinderen');
      none.type = 'button';
      none.dataset.child = '';
      none.setAttribute('aria-pressed', photo.noChildren ? 'true' : 'false');
      none.addEventListener('click', function () {
        photo.noChildren = !photo.noChildren;
        submission = null;
        render(photo);
      });
      var li = el('li');
      li.appendChild(none);
      chips.appendChild(li);
      node.appendChild(chips);
      if (photo.active) {
        node.appendChild(el('p', 'hint', 'Tik op het gezicht van ' +
          audience(section())[photo.active].label + ' in de foto (mag ook niet).'));
      }
      var v = verdictOf(photo);
      var verdict = el('p', 'verdict ' + (v.publish ? 'ok' : 'drop'), v.text);
      verdict.setAttribute('data-verdict', v.code);
      node.appendChild(verdict);
    }
    var remove = el('button', 'remove secondary', 'Foto weghalen');
    remove.type = 'button';
    remove.addEventListener('click', function () {
      photos.splice(photos.indexOf(photo), 1);
      node.remove();
      submission = null;
      photos.forEach(render);
    });
    node.appendChild(remove);
  }

  function toggle(photo, id) {
    var at = photo.tags.indexOf(id);
    if (at >= 0) {
      photo.tags.splice(at, 1);
      delete photo.regions[id];
      photo.active = null;
    } else {
      photo.tags.push(id);
      photo.active = id;
    }
    submission = null;
    render(photo);
  }

  function markFace(photo, img, event) {
    if (!photo.active) { return; }
    var box = img.getBoundingClientRect();
    var x = (event.clientX - box.left) / box.width;
    var y = (event.clientY - box.top) / box.height;
    var clamp = function (v) { return Math.max(0, Math.min(1, v)); };
    photo.regions[photo.active] = [clamp(x), clamp(y), 0.18, 0.24];
    photo.active = null;
    submission = null;
    render(photo);
  }

  // --- sending --------------------------------------------------------------------------------

  function put(ident, name, body) {
    return fetch(data.postvak + ident + '/' + name, {
      method: 'PUT', body: body, credentials: 'same-origin', cache: 'no-store',
      headers: {'Content-Type': name === 'manifest.json' ? 'application/json' : 'image/jpeg'}
    }).then(function (response) {
      if (response.ok || response.status === 409 || response.status === 412) {
        return response;  // 200 (S3), 201/204 (nginx, Apache); 409/412: it arrived before
      }
      var why = {
        401: 'U bent niet (meer) ingelogd. Herlaad de pagina en log opnieuw in; er is niets verstuurd dat dubbel komt.',
        403: 'Dit is niet uw teampagina (ingelogd als iemand anders?). Open uw eigen pagina via Mijn pagina.',
        405: 'Deze server neemt geen berichten aan (is hij goed ingesteld?). Plaats het bericht via git, of vraag de beheerder.',
        413: 'Een foto is te groot (hoogstens 8 MB).',
        429: 'Te veel in korte tijd. Wacht een minuut en tik opnieuw op Plaatsen; er komt niets dubbel.'
      }[response.status] || ('De server weigerde het (' + response.status + '). Probeer het zo opnieuw.');
      throw new Error(why);
    }, function () {
      throw new Error('Geen verbinding. Tik opnieuw op Plaatsen zodra u verbinding hebt; er komt niets dubbel.');
    });
  }

  function manifest() {
    var s = section();
    var m = {v: 1, soort: editing ? 'wijziging' : 'bericht', sectie: s.kind + ':' + s.key,
             titel: $('#titel').value.trim(), tekst: $('#tekst').value, fotos: []};
    photos.filter(function (p) { return !p.error; }).forEach(function (p, i) {
      var name = 'foto-' + (i < 9 ? '0' : '') + (i + 1) + '.jpg';
      p.name = name;
      var entry = {bestand: name, sha256: p.sha256, kinderen: p.tags.slice()};
      if (p.noChildren) { entry.geen_kinderen = true; }
      if (Object.keys(p.regions).length) { entry.gezichten = p.regions; }
      m.fotos.push(entry);
    });
    if (editing) {
      m.bericht = editing.key;
      m.versie = editing.version;
      m.verwijder = Object.keys(removed).filter(function (n) { return removed[n]; });
    }
    return m;
  }

  function remember(ident, title) {
    try {
      var list = JSON.parse(localStorage.getItem(STORE) || '[]');
      list.push({id: ident, titel: title, at: Date.now()});
      localStorage.setItem(STORE, JSON.stringify(list.slice(-30)));
    } catch (e) { /* private mode: the team page shows the status after the round */ }
  }

  function send(m, button) {
    say('[data-error]', '');
    say('[data-receipt]', '');
    if (done) {
      say('[data-receipt]', 'Dit bericht is al verstuurd. Voor een nieuw bericht: open Nieuw bericht opnieuw.');
      return;
    }
    if (m.soort !== 'verwijderen') {
      if (!m.titel) { say('[data-error]', 'Geef het bericht een titel.'); $('#titel').focus(); return; }
      if (m.tekst.length > MAX_TEXT) { say('[data-error]', 'De tekst is te lang (hoogstens ' + MAX_TEXT + ' tekens).'); return; }
    }
    button.disabled = true;
    button.textContent = 'Bezig met versturen…';
    var ident = submission || (submission = uuid4());
    Promise.all(photos.map(function (p) { return p.ready; })).then(function () {
      var chain = Promise.resolve();
      photos.filter(function (p) { return !p.error; }).forEach(function (p, i) {
        chain = chain.then(function () {
          button.textContent = 'Foto ' + (i + 1) + ' van ' + m.fotos.length + ' versturen…';
          return put(ident, p.name, p.blob);
        });
      });
      return chain.then(function () {
        return put(ident, 'manifest.json', JSON.stringify(m));
      });
    }).then(function (response) {
      done = true;
      var at = new Date(response.headers.get('Date') || Date.now());
      var time = at.toLocaleTimeString('nl-NL', {hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Amsterdam'});
      remember(ident, m.titel || (editing && editing.title) || '');
      button.textContent = 'Verstuurd';
      say('[data-receipt]', 'Ontvangen om ' + time + ' (tijd van de server). ' +
        (m.soort === 'verwijderen' ? 'Het bericht gaat van de site' : 'Het bericht wordt geplaatst') +
        ' bij de volgende verwerking (meestal binnen een paar minuten). Uw teampagina toont de status.');
    }, function (error) {
      button.disabled = false;
      button.textContent = m.soort === 'verwijderen' ? 'Bericht verwijderen' : 'Plaatsen';
      say('[data-error]', error.message);
    });
  }

  // --- edit mode ------------------------------------------------------------------------------

  function startEdit(key, action) {
    data.sections.forEach(function (s) {
      s.posts.forEach(function (p) {
        if (p.key === key) { editing = p; $('#sectie').value = s.kind + ':' + s.key; }
      });
    });
    if (!editing) {
      say('[data-error]', 'Dit bericht staat niet (meer) bij uw berichten.');
      return;
    }
    $('#kop').textContent = 'Bericht bewerken';
    $('#sectie').disabled = true;
    $('#titel').value = editing.title;
    $('#tekst').value = editing.text;
    var note = $('[data-edit-note]', form);
    note.hidden = false;
    note.textContent = 'U bewerkt ‘' + editing.title + '’ (' + editing.date + '). Tik op een foto om ' +
      'hem weg te halen; nieuwe foto\'s kunt u toevoegen.';
    var list = $('[data-photos]', form);
    editing.photos.forEach(function (p) {
      var li = el('li', 'photo existing');
      if (p.thumb) {
        var img = el('img');
        img.src = p.thumb;
        img.alt = p.name;
        li.appendChild(img);
      }
      li.appendChild(el('p', 'meta', p.name + (p.published ? '' : ' · niet gepubliceerd')));
      var button = el('button', 'remove secondary', 'Foto weghalen');
      button.type = 'button';
      button.setAttribute('aria-pressed', 'false');
      button.addEventListener('click', function () {
        removed[p.name] = !removed[p.name];
        button.setAttribute('aria-pressed', removed[p.name] ? 'true' : 'false');
        button.textContent = removed[p.name] ? 'Wordt weggehaald (tik om te houden)' : 'Foto weghalen';
        submission = null;
      });
      li.appendChild(button);
      list.appendChild(li);
    });
    var del = $('[data-delete]', form);
    del.hidden = false;
    del.addEventListener('click', function () {
      if (action !== 'verwijderen' && !window.confirm('‘' + editing.title + '’ van de site halen?')) {
        return;
      }
      send({v: 1, soort: 'verwijderen', bericht: editing.key, versie: editing.version}, del);
    });
    if (action === 'verwijderen') { del.focus(); }
  }

  function start() {
    form = document.getElementById('editor');
    var source = document.getElementById('team-data');
    if (!form || !source) { return; }
    data = JSON.parse(source.textContent);
    form.hidden = false;
    var text = $('#tekst');
    var counter = $('[data-counter]', form);
    text.addEventListener('input', function () {
      counter.textContent = 'Nog ' + (MAX_TEXT - text.value.length) + ' tekens';
      submission = null;
      if (!$('[data-preview]', form).hidden) { $('[data-preview]', form).innerHTML = preview(text.value); }
    });
    $('#titel').addEventListener('input', function () { submission = null; });
    $('[data-preview-toggle]', form).addEventListener('click', function (event) {
      var box = $('[data-preview]', form);
      box.hidden = !box.hidden;
      box.innerHTML = preview(text.value);
      event.target.setAttribute('aria-expanded', box.hidden ? 'false' : 'true');
      event.target.textContent = box.hidden ? 'Voorbeeld tonen' : 'Voorbeeld verbergen';
    });
    $('#sectie').addEventListener('change', function () {
      photos.forEach(function (p) { p.tags = []; p.regions = {}; render(p); });
      submission = null;
    });
    $('#fotos').addEventListener('change', function (event) {
      addFiles(event.target.files);
      event.target.value = '';
    });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      send(manifest(), $('[data-submit]', form));
    });
    var params = new URLSearchParams(location.search);
    if (params.get('bericht')) { startEdit(params.get('bericht'), params.get('actie')); }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
