// Schoolplein agenda on the family page: merges the agendas of the sections this visitor may
// read (school, the children's groups, the family's own) into one list, next first. The page
// itself carries only the family's own events: a teacher of one group reads this page too, and
// must not see another group's agenda; each section's agenda.json answers only its own readers
// (401/403 otherwise), so the browser merges what this visitor may see. First-party, no
// dependencies (CSP script-src 'self'). Without JavaScript the page links each agenda.
(function () {
  'use strict';

  function item(e) {
    var li = document.createElement('li');
    if (e.cancelled) {
      li.className = 'cancelled';
    }
    var a = document.createElement('a');
    a.href = e.url;
    var strong = document.createElement('strong');
    strong.textContent = e.title;
    a.appendChild(strong);
    li.appendChild(a);
    if (e.cancelled) {
      var tag = document.createElement('span');
      tag.className = 'tag';
      tag.textContent = 'afgelast';
      li.appendChild(document.createTextNode(' '));
      li.appendChild(tag);
    }
    var meta = document.createElement('span');
    meta.className = 'meta';
    var time = document.createElement('time');
    time.setAttribute('datetime', e.start);
    time.textContent = e.when;
    meta.appendChild(time);
    var extra = [e.place, e.section].filter(function (x) { return x; }).join(' · ');
    if (extra) {
      meta.appendChild(document.createTextNode(' · ' + extra));
    }
    li.appendChild(meta);
    return li;
  }

  function key(e) {
    // all-day events (a date) sort at the start of their day, in school time
    return (e.start.length === 10 ? e.start + 'T00:00:00+01:00' : e.start);
  }

  function start() {
    var box = document.getElementById('agenda');
    var list = box && box.querySelector('[data-agenda-list]');
    var sources = box ? (box.getAttribute('data-agenda-sources') || '').split(' ') : [];
    sources = sources.filter(function (s) { return /^\/[a-z0-9\/-]+\/agenda\.json$/.test(s); });
    if (!list || !sources.length || typeof fetch !== 'function') {
      return;
    }
    Promise.all(sources.map(function (url) {
      return fetch(url, {credentials: 'same-origin', cache: 'no-store', redirect: 'error'})
        .then(function (r) { return r.ok ? r.json() : []; })
        .catch(function () { return []; });
    })).then(function (lists) {
      var seen = {}, all = [];
      lists.forEach(function (events) {
        (Array.isArray(events) ? events : []).forEach(function (e) {
          if (e && typeof e.uid === 'string' && !seen[e.uid] && typeof e.start === 'string') {
            seen[e.uid] = true;
            all.push(e);
          }
        });
      });
      all.sort(function (x, y) {
        var a = Date.parse(key(x)), b = Date.parse(key(y));
        return a - b || (x.title < y.title ? -1 : x.title > y.title ? 1 : 0);
      });
      if (!all.length) {
        return;
      }
      while (list.firstChild) {
        list.removeChild(list.firstChild);
      }
      all.forEach(function (e) { list.appendChild(item(e)); });
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
