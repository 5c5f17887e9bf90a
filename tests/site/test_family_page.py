"""The family page as the build writes it: the conversation, the forms, escaping, households.

A small school with a child in two households: parents submit through the real
postvak (intake, process, export), then the real build writes the pages.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import Environment, FileSystemLoader

from plugins import family_threads
from plugins.errors import SchoolpleinError
from plugins.filters import datum, tel
from plugins.output_check import TOKEN_RE, check_output, page_urls
from plugins.roster import Consent, load_roster
from plugins.sections import build_section_map
from plugins.site import build
from postvak import PostvakSettings, process
from postvak.thread import export_threads
from tests.helpers import ROOT
from tests.postvak.conftest import FAM_A, FAM_B, FAM_K, MORNING, Inbox, write_school

EVIL = "<img src=http://evil.example/p.gif onerror=alert(1)></p><script>alert('x')</script>"
TEMPLATE = ROOT / "theme" / "templates"
REPLY = """Title: Antwoord over Lotte
Date: 2026-11-10 09:00
Author: Meester Pieter Bos

Dank voor uw bericht, dat is **prima**.
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Both households of Lotte submit; the build writes every family page."""
    tmp = tmp_path_factory.mktemp("familypage")
    roster_dir = write_school(tmp / "roster")
    postvak = PostvakSettings(private=tmp / "private", roster=roster_dir,
                              site_url="https://ouders.example.nl",
                              sender="Schoolplein <noreply@ouders.example.nl>",
                              admin_email="administratie@school.example.nl",
                              consent_default=Consent.SCHOOL)
    inbox = Inbox(postvak)
    inbox.put(FAM_A, "marieke.jansen@example.nl",
              {"soort": "bericht", "aan": "lk-56", "tekst": f"Vraag van mama {EVIL}"})
    inbox.put(FAM_A, "marieke.jansen@example.nl",
              {"soort": "bericht", "aan": "lk-56",
               "tekst": f"Code {FAM_B} en {'x' * 40}{FAM_B} en ons eigen {FAM_A} "
                        "https://evil.example/x /groep/groep-3/"})
    inbox.put(FAM_A, "marieke.jansen@example.nl",
              {"soort": "afwezigheid", "kind": FAM_B, "reden": "ziek"})  # quoted in the reason
    inbox.put(FAM_B, "peter.jansen@example.nl",
              {"soort": "afwezigheid", "kind": "lotte-jansen", "reden": "ziek",
               "toelichting": "Alleen voor het huis van papa"},
              at=MORNING.replace(hour=9, minute=40))
    process(postvak, now=MORNING + timedelta(hours=3))
    inbox.put(FAM_A, "marieke.jansen@example.nl",
              {"soort": "bericht", "aan": "directie", "tekst": "Nog in de inbox"},
              at=MORNING.replace(hour=11))
    export_threads(postvak.private, load_roster(roster_dir))
    content = tmp / "content"
    (content / "school").mkdir(parents=True)
    (content / "school" / "2026-09-01-welkom.md").write_text(
        "Title: Welkom\nDate: 2026-09-01 08:00\n\nWelkom allemaal.\n", encoding="utf-8")
    (content / "gezin" / FAM_A).mkdir(parents=True)
    (content / "gezin" / FAM_A / "2026-11-10-antwoord.md").write_text(REPLY, encoding="utf-8")
    settings = build(path=str(content), output_path=str(tmp / "output"),
                     photo_cache_dir=str(tmp / "cache"), photo_audit_dir=str(tmp / "audit"),
                     schoolplein_private=str(postvak.private), schoolplein_roster=str(roster_dir))
    return tmp / "output", settings


def page(site, family_id: str) -> str:
    return (site[0] / "gezin" / family_id / "index.html").read_text(encoding="utf-8")


def main(text: str) -> str:
    return text.split('<main id="inhoud">', 1)[1].split("</main>", 1)[0]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.turns: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "li" and "turn" in (attrs.get("class") or ""):
            self.turns.append(attrs)


def tags(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    return parser


def said(text: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="said">(.*?)</p>', text, re.S)]


def test_each_household_sees_its_own_items_and_the_staff_reply_in_date_order(site):
    a, b = page(site, FAM_A), page(site, FAM_B)
    turns = tags(main(a)).turns
    assert ["home" in t["class"] or "school" in t["class"] for t in turns] == [True] * len(turns)
    kinds = [t.get("data-kind", "post") for t in turns]
    assert kinds == ["bericht", "bericht", "afwezigheid", "post", "bericht"]  # 07:00:01 ... 11:00
    assert "Antwoord over Lotte" in a and "<strong>prima</strong>" in a  # the teacher's Markdown
    assert "Status: ontvangen" in a and "Status: doorgestuurd aan Meester Pieter Bos" in a
    assert "Alleen voor het huis van papa" not in a and "Peter Jansen" not in a
    assert said(b) == ["Alleen voor het huis van papa"]
    assert "Vraag van mama" not in b and "Marieke" not in b and "Antwoord over Lotte" not in b
    ids_a = {t["data-id"] for t in turns if "data-id" in t}
    ids_b = {t["data-id"] for t in tags(main(b)).turns if "data-id" in t}
    assert len(ids_a) == 4 and len(ids_b) == 1 and not ids_a & ids_b
    for text in (a, b):  # the shared child is on both pages
        assert 'name="kind" value="lotte-jansen"' in text
        assert 'data-kind="lotte-jansen"' in text


def test_a_parents_words_are_text_never_markup(site):
    a = page(site, FAM_A)
    assert said(a)[0] == f"Vraag van mama {EVIL}"  # exactly as typed, shown as text
    body = main(a)
    found = tags(body).tags
    assert not [t for t, _ in found if t in ("img", "script", "iframe", "object")]
    assert not [attrs for _, attrs in found if any("evil" in (v or "") for v in attrs.values())]
    assert "&lt;img src=http://evil.example/p.gif" in body
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in body
    assert [src for _, src in page_urls(a) if "evil" in src] == []
    assert [attrs["src"] for t, attrs in tags(a).tags if t == "script"] == [
        "/theme/js/postvak.js", "/theme/js/team-answer.js", "/theme/js/agenda.js"]  # first-party
    assert "|safe" not in (TEMPLATE / "family.html").read_text(encoding="utf-8")


def test_another_familys_id_typed_by_a_parent_is_hidden_and_the_build_passes(site):
    a = page(site, FAM_A)
    assert FAM_B not in a  # the output check ran at the end of the build and passed
    assert said(a)[1] == (f"Code {family_threads.HIDDEN_ID} en {'x' * 40}{family_threads.HIDDEN_ID}"
                          f" en ons eigen {FAM_A} https://evil.example/x /groep/groep-3/")
    # which child ids exist is not the parent's business: the page gives no detail
    assert "niet verwerkt: de school bekijkt het" in a and "onbekend kind" not in a
    thread = a.split('id="gesprek"', 1)[1].split("</section>", 1)[0]
    assert "https://evil.example/x" in thread and "href" not in thread.replace('href="/gezin/', "")


def test_recipients_are_the_households_teachers_and_the_directie(site):
    def options(family_id):
        select = main(page(site, family_id)).split('<select id="bericht-aan"', 1)[1]
        select = select.split("</select>", 1)[0]
        return re.findall(r'<option value="([^"]*)"', select)

    # Lotte (groep 5/6) and Daan (groep 3) / Lotte and Mees (groep 3): the same teachers.
    assert options(FAM_A) == ["", "lk-56b", "lk-3", "lk-56", "directie"]
    assert options(FAM_B) == ["", "lk-56b", "lk-3", "lk-56", "directie"]
    assert options(FAM_K) == ["", "lk-3", "directie"]  # Sem K. in groep 3 only
    assert ("Juf Mirjam Visser, leerkracht van Daan</option>" in page(site, FAM_A))
    assert ("Juf Mirjam Visser, leerkracht van Mees</option>" in page(site, FAM_B))


def test_photo_consent_shows_what_applies_and_who_may_choose(site):
    b = main(page(site, FAM_B))
    forms = {m.group(1): m.group(2) for m in re.finditer(
        r'<form class="postvak" method="post" data-soort="beeldgebruik" data-kind="([^"]+)".*?>'
        r'(.*?)</form>',
        b, re.S)}
    assert set(forms) == {"lotte-jansen", "mees-deboer"}
    assert re.search(r'value="school"[^>]*checked', forms["lotte-jansen"])
    assert re.search(r'value="groep"[^>]*checked', forms["mees-deboer"])
    assert "Alleen Peter Jansen kan dit voor Lotte kiezen." in forms["lotte-jansen"]
    assert "Alleen Eva de Boer kan dit voor Mees kiezen." in forms["mees-deboer"]
    a = main(page(site, FAM_A))
    assert "Nu: Op de groepspagina en de schoolpagina&#39;s (de standaard van school)" in a  # Daan
    assert "kan dit voor" not in a  # Marieke is the parent of both


def test_without_script_the_page_says_how_to_reach_the_school(site):
    a = main(page(site, FAM_A))
    noscript = a.split("<noscript>", 1)[1].split("</noscript>", 1)[0]
    assert 'href="tel:0101234567"' in noscript and 'href="mailto:' in noscript
    # nothing for the script to unhide (the page would jump): without script, nojs.css hides
    # the forms and the buttons that lead to them
    assert not re.search(r'<div (id="postvak"|class="screens")[^>]*hidden', a)
    head = page(site, FAM_A).split("</head>", 1)[0]
    assert '<noscript><link rel="stylesheet" href="/theme/css/nojs.css"></noscript>' in head
    assert f'data-postvak="/gezin/{FAM_A}/postvak/"' in a
    assert "(nog) geen berichten sturen" not in a


# --- the output check and what a parent can type (property) -----------------------------------

PIECES = st.one_of(
    st.sampled_from([FAM_A, FAM_B, FAM_K, "x" * 40, "9" * 39, EVIL, "<a href=/groep/groep-3/>",
                     '"', "'", "&", "&amp;", "&#39;", "https://evil.example/p.gif", "\n", " ",
                     "{{ 7*7 }}", "{% raw %}", "/gezin/", "<!--", "]]>"]),
    st.text(alphabet="abcdefghjkmnpqrstuvwxyz23456789", min_size=1, max_size=40),
    st.text(max_size=12),
)


@pytest.fixture(scope="module")
def small_school(tmp_path_factory):
    roster = load_roster(write_school(tmp_path_factory.mktemp("roster")))
    return roster, build_section_map(roster, "Testschool")


def render_family(roster, sections, family_id, items) -> str:
    """family.html in an environment like Pelican's (no autoescape by default)."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATE)), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(datum=datum, tel=tel)
    family_ids = {s.key for s in sections if s.kind == "family"}
    return env.get_template("family.html").render(
        SITENAME="Testschool", SCHOOL_PHONE="010-123 45 67", DIRECTIE_EMAIL="d@school.example.nl",
        family_id=family_id, postvak_url=f"/gezin/{family_id}/postvak/",
        family_children=family_threads.plain(
            family_threads.family_children(roster, family_id, Consent.SCHOOL)),
        family_groups=[], recipients=family_threads.plain(family_threads.recipients(roster, family_id)),
        thread=family_threads.plain(family_threads.conversation(items, [], family_id, family_ids)),
        consent_text={str(k): v for k, v in family_threads.CONSENT_TEXT.items()})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(PIECES, max_size=8).map("".join))
def test_whatever_a_parent_types_the_page_passes_the_output_check_and_shows_it_as_text(
        small_school, tmp_path_factory, text):
    roster, sections = small_school
    item = family_threads.ThreadItem("0b6c1f9e-5a4f-4f3e-9d7c-2f6f1e0a9b8c", "bericht", MORNING,
                                     "Marieke Jansen", "Bericht aan Juf Anne Smit", text,
                                     f"niet verwerkt: onbekend kind '{text[:40]}'")
    rendered = render_family(roster, sections, FAM_A, [item])
    others = {s.key for s in sections if s.kind == "family"} - {FAM_A}
    assert not set(TOKEN_RE.findall(rendered)) & others
    shown = said(rendered)
    hidden = family_threads.hide_other_families(item, FAM_A, others | {FAM_A})
    assert shown == ([hidden.text] if text else [])  # the words as typed, ids of others hidden
    thread = main(rendered).split('id="gesprek"', 1)[1].split("</section>", 1)[0]
    assert {t for t, _ in tags(thread).tags} <= {"h2", "p", "ol", "li", "time"}
    assert [u for _, u in page_urls(main(rendered)) if "evil" in u or "groep-3" in u] == []
    output = tmp_path_factory.mktemp("out")
    target = output / "gezin" / FAM_A / "index.html"
    target.parent.mkdir(parents=True)
    target.write_text(rendered, encoding="utf-8")
    check_output(output, sections)  # raises when anything escaped


def test_the_output_check_still_refuses_an_unhidden_family_id(small_school, tmp_path):
    """Fail closed: should the page ever show another family's id, the build stops."""
    _, sections = small_school
    target = tmp_path / "gezin" / FAM_A / "index.html"
    target.parent.mkdir(parents=True)
    target.write_text(f'<p class="said">Code {FAM_B}</p>', encoding="utf-8")
    with pytest.raises(SchoolpleinError) as caught:
        check_output(tmp_path, sections)
    assert "id van een gezinspagina die er niet bij hoort" in str(caught.value)


def test_an_unchanged_family_page_is_reused_and_a_new_thread_item_rebuilds_it(
        tmp_path, monkeypatch):
    """Incremental builds: the family page's data is plain, so the writer can vouch for it."""
    from dataclasses import replace

    from plugins.settings import load_settings
    from plugins.state import KEY
    from tasks.common import build as admin_build

    roster_dir = write_school(tmp_path / "roster")
    private = tmp_path / "private"
    postvak = PostvakSettings(private=private, roster=roster_dir, site_url="https://o.example.nl",
                              sender="S <n@o.example.nl>", admin_email="a@o.example.nl",
                              consent_default=Consent.SCHOOL)
    (tmp_path / "content" / "school").mkdir(parents=True)
    (tmp_path / "content" / "school" / "2026-09-01-welkom.md").write_text(
        "Title: Welkom\nDate: 2026-09-01 08:00\n\nWelkom.\n", encoding="utf-8")
    for key, folder in (("CONTENT", "content"), ("PRIVATE", "private"), ("PHOTO_CACHE", "cache"),
                        ("AUDIT", "audit")):
        monkeypatch.setenv(f"SCHOOLPLEIN_{key}", str(tmp_path / folder))
    cfg = replace(load_settings(ROOT), roster=roster_dir, output=tmp_path / "output",
                  build_cache=tmp_path / "build-cache")
    key = f"page:gezin/{FAM_A}/index.html"
    admin_build(cfg)
    again = admin_build(cfg)[KEY].incremental
    assert key in again.new.groups and again.rendered == 0, again.rendered
    Inbox(postvak).put(FAM_A, "marieke.jansen@example.nl",
                       {"soort": "bericht", "aan": "directie", "tekst": "Nieuw in de draad"})
    export_threads(private, load_roster(roster_dir))
    after = admin_build(cfg)[KEY].incremental
    assert after.rendered > 0
    assert "Nieuw in de draad" not in (tmp_path / "output" / "gezin" / FAM_A / "index.html").read_text(
        encoding="utf-8")  # still in the inbox: the page shows that it arrived, not the words
    assert "Status: ontvangen" in (tmp_path / "output" / "gezin" / FAM_A / "index.html").read_text(
        encoding="utf-8")
