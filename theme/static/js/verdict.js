// Schoolplein: the photo rule of plugins/photos/rules.py (`decide`), for the editor's live
// verdict. The build stays the authority; this is a preview that must give the same answer
// for the same tags and consents (tests/team/test_verdict.py runs one table of cases and a
// property test through both). Runs in the browser (window.SchoolpleinVerdict) and in node.
(function (root) {
  'use strict';

  // Section kinds a consent allows (plugins.roster.Consent.allowed_kinds).
  var ALLOWED = {geen: [], groep: ['group', 'family'], school: ['group', 'family', 'school']};

  function names(list) {
    return list.length === 1 ? list[0] :
      list.slice(0, -1).join(', ') + ' en ' + list[list.length - 1];
  }

  // input: {kind: 'group'|'school'|'family', min: 3, consentDefault: 'school',
  //         audience: {<child id>: {label: 'Sem B.', consent: 'geen'|'groep'|'school'|null}},
  //         tags: [<child id>, ...], noChildren: bool}
  // returns {publish, code, codes, text}: codes in the order decide() checks them.
  function verdict(input) {
    var tags = [];
    (input.tags || []).forEach(function (t) {
      if (tags.indexOf(t) < 0) {
        tags.push(t);
      }
    });
    var audience = input.audience || {};
    var codes = [];
    var refused = [];
    var unknown = tags.filter(function (t) {
      return !Object.prototype.hasOwnProperty.call(audience, t);
    });
    if (input.noChildren && tags.length) {
      codes.push('no_children_conflict');
    }
    if (!tags.length && !input.noChildren) {
      codes.push('untagged');
    }
    if (unknown.length) {
      codes.push('unknown_name');
    }
    tags.forEach(function (t) {
      if (unknown.indexOf(t) >= 0) {
        return;
      }
      var consent = audience[t].consent || input.consentDefault;
      if ((ALLOWED[consent] || []).indexOf(input.kind) < 0) {
        refused.push(t);
      }
    });
    if (refused.length) {
      codes.push('no_consent');
    }
    var known = tags.length - unknown.length;
    if (!input.noChildren && tags.length && !unknown.length && known < input.min) {
      codes.push('portrait');
    }
    var result = {publish: codes.length === 0, codes: codes,
                  code: codes.length ? codes[0] : (input.noChildren ? 'published_no_children' :
                                                   'published')};
    result.text = text(result, input, refused, unknown);
    return result;
  }

  function label(input, id) {
    return input.audience[id].label;
  }

  function text(result, input, refused, unknown) {
    switch (result.code) {
      case 'published':
        return 'wordt geplaatst';
      case 'published_no_children':
        return 'wordt geplaatst (geen herkenbare kinderen)';
      case 'untagged':
        return 'niet geplaatst: tik aan wie erop staan (of “geen herkenbare kinderen”)';
      case 'no_children_conflict':
        return 'niet geplaatst: “geen herkenbare kinderen” én kinderen aangetikt';
      case 'unknown_name':
        return 'niet geplaatst: ' + unknown.length + (unknown.length === 1 ? ' kind hoort' :
          ' kinderen horen') + ' niet bij deze pagina';
      case 'no_consent':
        var onlyGroup = refused.filter(function (id) {
          return (input.audience[id].consent || input.consentDefault) === 'groep';
        });
        if (input.kind === 'school' && onlyGroup.length === refused.length) {
          return 'niet op de schoolpagina: ' + names(refused.map(function (id) {
            return label(input, id);
          })) + ' alleen groep';
        }
        return 'niet geplaatst: ' + names(refused.map(function (id) { return label(input, id); })) +
          (refused.length === 1 ? ' heeft' : ' hebben') + ' geen toestemming';
      case 'portrait':
        return 'niet geplaatst: minder dan ' + input.min + ' kinderen';
      default:
        return 'niet geplaatst';
    }
  }

  var api = {verdict: verdict, ALLOWED: ALLOWED};
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = api;
  } else {
    root.SchoolpleinVerdict = api;
  }
}(this));
