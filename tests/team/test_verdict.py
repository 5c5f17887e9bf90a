"""The editor's live verdict (theme/static/js/verdict.js, under node) and the build's rule
(plugins/photos/rules.py `decide`) are one rule: one table of cases both run, and a
property test that sends random tag sets and consents through both."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.photos.rules import decide
from plugins.photos.settings import PhotoSettings
from plugins.photos.tags import LIST, PhotoTags, Source, Tag
from plugins.roster import Child, Consent, Group, Roster
from plugins.sections import Section

HARNESS = Path(__file__).with_name("verdict_harness.js")
NAMES = ["Sem", "Noor", "Zoë", "Daan", "Lotte", "Ömer", "Fenna", "Milan"]

# (section kind, consents by child (None: the school's default), tags, no children, codes,
#  what the editor says)
CASES = [
    ("group", {"sem": "school", "noor": "groep", "daan": None}, ["sem", "noor", "daan"], False,
     [], "wordt geplaatst"),
    ("group", {"sem": "school", "noor": None}, ["sem", "noor"], False, ["portrait"],
     "niet geplaatst: minder dan 3 kinderen"),
    ("group", {"sem": "geen", "noor": None, "daan": None}, ["sem", "noor", "daan"], False,
     ["no_consent"], "niet geplaatst: Sem heeft geen toestemming"),
    ("school", {"sem": None, "noor": "groep", "daan": None}, ["sem", "noor", "daan"], False,
     ["no_consent"], "niet op de schoolpagina: Noor alleen groep"),
    ("school", {"sem": "geen", "noor": "groep", "daan": None}, ["sem", "noor", "daan"], False,
     ["no_consent"], "niet geplaatst: Sem en Noor hebben geen toestemming"),
    ("group", {"sem": "geen", "noor": None}, ["sem"], False, ["no_consent", "portrait"],
     "niet geplaatst: Sem heeft geen toestemming"),
    ("group", {"sem": None}, [], False, ["untagged"],
     "niet geplaatst: tik aan wie erop staan (of “geen herkenbare kinderen”)"),
    ("group", {"sem": None}, [], True, [], "wordt geplaatst (geen herkenbare kinderen)"),
    ("group", {"sem": None, "noor": None}, ["sem"], True, ["no_children_conflict"],
     "niet geplaatst: “geen herkenbare kinderen” én kinderen aangetikt"),
    ("group", {"sem": None, "noor": None, "daan": None}, ["sem", "noor", "vreemd"], False,
     ["unknown_name"], "niet geplaatst: 1 kind hoort niet bij deze pagina"),
]


@pytest.fixture(scope="module")
def node():
    proc = subprocess.Popen(["node", str(HARNESS)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


def run_js(node, kind, consents, tags, no_children, labels, min_children=3):
    audience = {cid: {"label": labels[cid], "consent": consent}
                for cid, consent in consents.items()}
    node.stdin.write(json.dumps({"kind": kind, "min": min_children, "consentDefault": "school",
                                 "audience": audience, "tags": tags,
                                 "noChildren": no_children}) + "\n")
    return json.loads(node.stdout.readline())


def run_python(kind, consents, tags, no_children, labels, min_children=3):
    children = {cid: Child(cid, labels[cid], "Achternaam", "groep-3",
                           Consent(c) if c else None) for cid, c in consents.items()}
    roster = Roster({"groep-3": Group("groep-3", "Groep 3", "2026")}, children, {}, {})
    section = Section(kind, "x", "/x/", "X", frozenset(), frozenset(children))
    source = Source(LIST, "fotos.txt", 1)
    photo = PhotoTags("foto-01.jpg", tuple(Tag(t, source) for t in tags),
                      (source,) if no_children else ())
    d = decide(photo, roster, section, PhotoSettings(min_children=min_children,
                                                     consent_default=Consent.SCHOOL))
    return d.publish, list(d.codes), d.code


@pytest.mark.parametrize("case", CASES, ids=[c[5] for c in CASES])
def test_one_table_of_cases_for_the_editor_and_the_build(node, case):
    kind, consents, tags, no_children, codes, text = case
    labels = {cid: cid.capitalize() for cid in consents}
    publish, py_codes, _ = run_python(kind, consents, tags, no_children, labels)
    js = run_js(node, kind, consents, tags, no_children, labels)
    assert py_codes == codes and js["codes"] == codes
    assert publish is js["publish"] is (not codes)
    assert js["text"] == text


@st.composite
def photos(draw):
    n = draw(st.integers(0, 7))
    ids = [f"kind-{i}" for i in range(n)]
    consents = {cid: draw(st.sampled_from([None, "geen", "groep", "school"])) for cid in ids}
    pool = ids + ["vreemd-1", "vreemd-2"]
    tags = draw(st.lists(st.sampled_from(pool), max_size=9)) if pool else []
    return (draw(st.sampled_from(["group", "school", "family"])), consents, tags,
            draw(st.booleans()), draw(st.integers(1, 4)))


@settings(max_examples=300, deadline=None)
@given(photos())
def test_the_editor_and_the_build_always_agree(node, case):
    kind, consents, tags, no_children, min_children = case
    labels = {cid: NAMES[i % len(NAMES)] for i, cid in enumerate(consents)}
    publish, codes, code = run_python(kind, consents, tags, no_children, labels, min_children)
    js = run_js(node, kind, consents, tags, no_children, labels, min_children)
    assert (js["publish"], js["codes"], js["code"]) == (publish, codes, code)
