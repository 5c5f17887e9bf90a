"""Property: whatever the split between tag sources, the union decides.

Random rosters (duplicate and non-ASCII names, random consents) and random tag
sets; every tag is written into a random non-empty set of sources (face
regions and PersonInImage embedded in the photo, in `foto.jpg.xmp`, in
`foto.xmp`, a fotos.txt line) and some photos also get a "geen herkenbare
kinderen" line. The real process_post decides; the oracle below only knows
the union rule. No published photo may show a child whose consent forbids the
section, and a "no children" mark beside any name never publishes.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from plugins.photos.posts import process_post
from plugins.photos.settings import PhotoSettings
from plugins.roster import Child, Consent, Roster
from plugins.sections import Section

from .conftest import xmp
from .test_rules_property import FIRST, KINDS, LAST, UNKNOWN, candidates, tag_text

# (file, kind): where a tag can be written for photo foto-<i>.jpg
SOURCES = [("photo", "region"), ("photo", "person"), ("jpg.xmp", "region"),
           ("jpg.xmp", "person"), ("xmp", "region"), ("xmp", "person"), ("fotos.txt", "")]


@st.composite
def scenarios(draw):
    n = draw(st.integers(1, 8))
    consents = st.sampled_from([None] * 5 + [Consent.NONE, Consent.GROUP, Consent.SCHOOL])
    children = {f"kind-{i}": Child(f"kind-{i}", draw(st.sampled_from(FIRST)),
                                   draw(st.sampled_from(LAST)), "g", draw(consents))
                for i in range(n)}
    roster = Roster({}, children, {}, {})
    ids = sorted(children)
    audience = frozenset(ids) if draw(st.booleans()) else draw(st.frozensets(st.sampled_from(ids)))
    kind = draw(st.sampled_from(KINDS))
    section = Section(kind, "k", "/" if kind == "public" else f"/{kind}/k/", "Sectie",
                      frozenset(), frozenset() if kind == "public" else audience)
    clear = st.sampled_from(["id", "full", "initial"])
    photos = []
    for _ in range(draw(st.integers(1, 4))):
        pool = sorted(audience) if audience and draw(st.integers(0, 5)) else ids
        size = 0 if draw(st.integers(0, 5)) == 0 else 1  # some photos name nobody
        if draw(st.booleans()):  # a careful teacher: distinct children, clear names
            kids = draw(st.lists(st.sampled_from(pool), min_size=size, max_size=5, unique=True))
            tags = [(k, draw(clear)) for k in kids]
        else:
            one = st.one_of(
                st.tuples(st.sampled_from(pool), st.sampled_from(["id", "full", "first",
                                                                  "initial"])),
                st.tuples(st.sampled_from(UNKNOWN), st.just("unknown")))
            tags = draw(st.lists(one, min_size=size, max_size=5))
        spread = [draw(st.sets(st.sampled_from(SOURCES), min_size=1)) for _ in tags]
        mark = draw(st.integers(0, 3)) == 0
        photos.append((tags, spread, mark))
    min_children = draw(st.sampled_from([1, 2, 3, 3]))
    default = draw(st.sampled_from([Consent.SCHOOL, Consent.SCHOOL, Consent.GROUP, Consent.NONE]))
    return roster, section, photos, min_children, default


def oracle(roster, section, texts, mark, min_children, default) -> bool:
    """The union rule, written independently of plugins/photo_*."""
    if mark:
        return not texts
    if not texts:
        return False
    audience = [roster.children[c] for c in section.children]
    chosen = set()
    for text, form in texts:
        found = candidates(text, form, audience)
        if len(found) != 1:
            return False
        chosen.add(found[0].id)
    if any(section.kind not in (roster.children[c].consent or default).allowed_kinds
           for c in chosen):
        return False
    return len(chosen) >= min_children


def write_post(post: Path, roster, photos) -> tuple[dict, list[str]]:
    """Photos, sidecars and fotos.txt for the scenario; returns the texts per photo."""
    lines, written = [], {}
    for i, (tags, spread, mark) in enumerate(photos):
        name = f"foto-{i}.jpg"
        texts = [(tag_text(roster.children[t], form) if form != "unknown" else t, form)
                 for t, form in tags]
        where: dict[tuple[str, str], list[str]] = {}
        for (text, _), sources in zip(texts, spread, strict=True):
            for source in sorted(sources):
                where.setdefault(source, []).append(text)
        embedded = xmp(regions=where.get(("photo", "region"), ()),
                       persons=where.get(("photo", "person"), ()))
        Image.new("RGB", (24, 16), (i * 50, 90, 200 - i * 40)).save(post / name, "JPEG",
                                                                     xmp=embedded)
        for suffix, file in (("jpg.xmp", f"foto-{i}.jpg.xmp"), ("xmp", f"foto-{i}.xmp")):
            regions, persons = where.get((suffix, "region"), ()), where.get((suffix, "person"), ())
            if regions or persons:
                (post / file).write_bytes(xmp(regions=regions, persons=persons))
        if ("fotos.txt", "") in where:
            lines.append(f"{name}: " + ", ".join(where[("fotos.txt", "")]))
        if mark:
            lines.append(f"{name}: geen herkenbare kinderen")
        written[name] = texts
    (post / "fotos.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written, lines


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_union_of_sources_decides_whatever_the_split(scenario):
    roster, section, photos, min_children, default = scenario
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        post = tmp / "post"
        post.mkdir()
        (post / "index.md").write_text("Title: t\n")
        texts_of, lines = write_post(post, roster, photos)
        cfg = PhotoSettings(min_children=min_children, consent_default=default,
                            cache_dir=tmp / "cache", audit_dir=tmp / "audit", workers=1,
                            large_size=32, thumb_size=16)
        result = process_post(post, section, roster, cfg, tmp / "out")

        published = {Path(r.photo).name for r in result.reports if r.published}
        expected = {f"foto-{i}.jpg" for i, (_, _, mark) in enumerate(photos)
                    if oracle(roster, section, texts_of[f"foto-{i}.jpg"], mark, min_children,
                              default)}
        event(f"published {min(len(expected), 2)}")
        event(f"sources per tag {max((len(s) for p in photos for s in p[1]), default=0)}")
        assert published == expected, ({n: texts_of[n] for n in published ^ expected}, lines)

        for i, (tags, _, mark) in enumerate(photos):
            if f"foto-{i}.jpg" not in published:
                continue
            assert not (mark and tags), "a 'no children' mark beside names was published"
            for child_id, form in tags:  # every child the photo really shows, in any source
                assert form != "unknown" and child_id in section.children
                consent = roster.children[child_id].consent or default
                assert section.kind in consent.allowed_kinds, (child_id, consent, section.kind)

        names = {w.casefold() for text in [*(c.full_name for c in roster.children.values()),
                                           *UNKNOWN]
                 for w in re.findall(r"\w\w+", text)} - {"de", "van", "der"}
        for r in result.reports:  # the console's reason never names anyone
            words = set(re.findall(r"\w+", r.reason.casefold()))
            assert not words & names, r.reason
