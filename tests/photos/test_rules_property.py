"""Property: the published set is exactly the photos that satisfy every rule.

Random rosters (duplicate and non-ASCII names, random consents), random
sections, random tag sets and PHOTO_BLUR on or off go through the real
process_post (fotos.txt and embedded XMP face regions, real tiny images); an
independent oracle below says which photos must be published.
"""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from plugins.photos.posts import process_post
from plugins.photos.settings import PhotoSettings
from plugins.roster import Child, Consent, Roster
from plugins.sections import Section

from .conftest import xmp

FIRST = ["Sem", "Zoë", "Zoe", "Ömer", "Eliška", "Noor", "Daan", "Elif", "Anna-Lena", "Liam",
         "Fleur", "Jip", "Mila", "Luuk", "Saar", "Bram", "Yara", "Ivo", "Nina", "Teun"]
LAST = ["Bakker", "Kok", "de Vries", "Nováková", "Yılmaz", "van der Veen", "Bos"]
UNKNOWN = ["Xavier", "Qin", "Björk", "Sem X.", "Wessel"]
KINDS = ["group", "group", "school", "family", "public"]


def f(text):  # the oracle's own folding: accents off, case off, dots off
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().replace(".", " ").split())


def initials(child):
    words = child.last_name.split()
    main = [w for w in words if w.lower() not in ("de", "van", "der")] or words
    return {f(child.last_name)[0], f(main[0])[0]}


def candidates(text, form, audience):
    if form == "id":
        return [c for c in audience if c.id == text]
    if form == "full":
        return [c for c in audience if f(c.full_name) == f(text)]
    if form == "first":
        return [c for c in audience if f(c.first_name) == f(text)]
    if form == "initial":
        first, initial = f(text).rsplit(" ", 1)
        return [c for c in audience if f(c.first_name) == first and initial in initials(c)]
    return []  # unknown


def tag_text(child, form):
    return {"id": child.id, "full": child.full_name, "first": child.first_name,
            "initial": f"{child.first_name} {child.last_name.split()[-1][0]}."}[form]


@st.composite
def scenarios(draw):
    n = draw(st.integers(1, 10))
    consents = st.sampled_from([None] * 6 + [Consent.NONE, Consent.GROUP, Consent.SCHOOL])
    children = {}
    for i in range(n):
        cid = f"kind-{i}"
        children[cid] = Child(cid, draw(st.sampled_from(FIRST)), draw(st.sampled_from(LAST)),
                              "g", draw(consents))
    roster = Roster({}, children, {}, {})
    ids = sorted(children)
    audience = frozenset(ids) if draw(st.booleans()) else draw(
        st.frozensets(st.sampled_from(ids)))
    kind = draw(st.sampled_from(KINDS))
    section = Section(kind, "k", "/" if kind == "public" else f"/{kind}/k/", "Sectie",
                      frozenset(), frozenset() if kind == "public" else audience)
    photos = []
    for _ in range(draw(st.integers(1, 5))):
        mark = draw(st.integers(0, 9)) == 0
        pool = sorted(audience) if audience and draw(st.integers(0, 9)) else ids
        known = st.tuples(st.sampled_from(pool),
                          st.sampled_from(["id", "full", "full", "first", "initial"]))
        unknown = st.tuples(st.sampled_from(UNKNOWN), st.just("unknown"))
        one = st.tuples(st.integers(0, 9), known, unknown).map(lambda t: t[2] if t[0] == 0 else t[1])
        if mark:
            tags = []
        elif audience and draw(st.booleans()):  # a careful teacher: distinct, clear names
            kids = draw(st.lists(st.sampled_from(sorted(audience)), min_size=1, max_size=5,
                                 unique=True))
            tags = [(k, draw(st.sampled_from(["id", "full", "initial"]))) for k in kids]
        else:
            tags = draw(st.lists(one, min_size=draw(st.sampled_from([0, 1, 2, 3])),
                                 max_size=6))
        via = draw(st.sampled_from(["sidecar", "xmp"])) if not mark else "sidecar"
        photos.append((mark, tags, via))
    min_children = draw(st.sampled_from([1, 2, 3, 3, 4]))
    default = draw(st.sampled_from([Consent.SCHOOL, Consent.SCHOOL, Consent.GROUP, Consent.NONE]))
    return roster, section, photos, min_children, default, draw(st.booleans())


def oracle(roster, section, mark, tags, min_children, default, blur=False, regions=False):
    """`blur`: PHOTO_BLUR; `regions`: every tag is a face region (embedded XMP), so a child
    without consent can be blurred (and then no longer counts), else it drops the photo."""
    if mark:
        return True
    if not tags:
        return False
    audience = [roster.children[c] for c in section.children]
    chosen = set()
    for text, form in tags:
        found = candidates(text, form, audience)
        if len(found) != 1:
            return False
        chosen.add(found[0].id)
    refused = {cid for cid in chosen
               if section.kind not in (roster.children[cid].consent or default).allowed_kinds}
    if refused and not (blur and regions):
        return False
    return len(chosen - refused) >= min_children


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_published_set_is_exactly_the_rule_abiding_photos(scenario):
    roster, section, photos, min_children, default, blur = scenario
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        post = tmp / "post"
        post.mkdir()
        (post / "index.md").write_text("Title: t\n")
        sidecar, expected = [], set()
        texts_of = {}
        for i, (mark, tags, via) in enumerate(photos):
            name = f"foto-{i}.jpg"
            texts = [(tag_text(roster.children[t], form) if form != "unknown" else t, form)
                     for t, form in tags]
            texts_of[name] = texts
            extra = {}
            if via == "xmp" and texts:
                extra["xmp"] = xmp(regions=[t for t, _ in texts], dims=(24, 16))
            Image.new("RGB", (24, 16), (i * 40, 100, 200 - i * 30)).save(
                post / name, "JPEG", **extra)
            if mark:
                sidecar.append(f"{name}: geen herkenbare kinderen")
            elif via == "sidecar" and texts:
                sidecar.append(f"{name}: " + ", ".join(t for t, _ in texts))
            if oracle(roster, section, mark, texts, min_children, default, blur, via == "xmp"):
                expected.add(name)
        (post / "fotos.txt").write_text("\n".join(sidecar) + "\n")
        cfg = PhotoSettings(min_children=min_children, consent_default=default, blur=blur,
                            cache_dir=tmp / "cache", audit_dir=tmp / "audit", workers=1,
                            large_size=32, thumb_size=16)
        result = process_post(post, section, roster, cfg, tmp / "out")

        published = {Path(r.photo).name for r in result.reports if r.published}
        event(f"published {min(len(expected), 2)}")
        event(f"kind {section.kind}")
        event(f"blurred {sum(bool(r.blurred) for r in result.reports)}")
        assert published == expected, {n: texts_of[n] for n in published ^ expected}
        assert len(result.photos) == len(expected)
        for p in result.photos:  # every URL and file inside the section's own path
            for url in (p.large_jpeg, p.large_webp, p.thumb_jpeg, p.thumb_webp):
                assert url.startswith(section.prefix + "fotos/")
            assert p.alt.startswith("Foto ")
        for path in result.written:
            rel = path.relative_to(tmp / "out").as_posix()
            assert ("/" + rel).startswith(section.prefix + "fotos/")
        names = {c.first_name.casefold() for c in roster.children.values()}
        for r in result.reports:  # console reasons never name a child
            assert not any(n in r.reason.casefold() for n in names), r.reason
