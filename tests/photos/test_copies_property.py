"""Property: the tags of a picture are the union of the tags of all its copies.

Random rosters (two groups, duplicate and non-ASCII names, random consents) and random
pictures, each reused one to three times across a groep-1 post, a groep-2 post and a
school post: as a JPEG with the same image data and its own labels, or as a PNG of its
decoded pixels. Every copy gets its own random tags (embedded XMP and/or fotos.txt, some
"geen herkenbare kinderen"). The real process_posts decides; the oracle below knows only
the per-picture union rule. No published copy may show a child, tagged on any copy,
whose consent forbids its page or who is not in its page's audience.
"""

from __future__ import annotations

import io
import random
import struct
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from plugins.photos.posts import process_posts
from plugins.photos.settings import PhotoSettings
from plugins.roster import Child, Consent, Roster
from plugins.sections import Section

from .conftest import xmp
from .test_rules_property import FIRST, LAST, UNKNOWN, candidates, tag_text

GROUPS = ("groep-1", "groep-2")
POSTS = ("groep-1", "groep-2", "school")  # one post per page


def sections_for(roster: Roster) -> dict[str, Section]:
    out = {g: Section("group", g, f"/groep/{g}/", g, frozenset(),
                      frozenset(c.id for c in roster.children.values() if c.group == g))
           for g in GROUPS}
    out["school"] = Section("school", "school", "/school/", "School", frozenset(),
                            frozenset(roster.children))
    return out


@st.composite
def scenarios(draw):
    n = draw(st.integers(3, 9))
    consents = st.sampled_from([None] * 6 + [Consent.NONE, Consent.GROUP, Consent.SCHOOL])
    children = {f"kind-{i}": Child(f"kind-{i}", draw(st.sampled_from(FIRST[:12])),
                                   draw(st.sampled_from(LAST)), GROUPS[i % 2], draw(consents))
                for i in range(n)}
    roster = Roster({}, children, {}, {})
    pages = sections_for(roster)
    pictures = []
    for _ in range(draw(st.integers(1, 3))):
        copies = []
        home = draw(st.sampled_from(GROUPS))  # whose children the picture mostly shows
        for _ in range(draw(st.integers(1, 3))):
            page = draw(st.sampled_from([home, home, "school", *POSTS]))
            own = sorted(pages[home].children & pages[page].children)
            pool = own if own and draw(st.integers(0, 4)) else sorted(children)
            known = st.tuples(st.sampled_from(pool), st.sampled_from(["id", "full", "initial",
                                                                       "initial", "first"]))
            unknown = st.tuples(st.sampled_from(UNKNOWN), st.just("unknown"))
            one = st.integers(0, 29).flatmap(lambda i: unknown if i == 0 else known)  # noqa: B023
            size = 0 if draw(st.integers(0, 4)) == 0 else 1
            tags = draw(st.lists(one, min_size=size, max_size=4))
            embedded = [draw(st.booleans()) for _ in tags]  # else fotos.txt
            mark = draw(st.integers(0, 11)) == 0
            fmt = draw(st.sampled_from(["jpeg", "png"]))
            copies.append((page, tags, embedded, mark, fmt))
        pictures.append(copies)
    min_children = draw(st.sampled_from([1, 1, 2, 3]))
    default = draw(st.sampled_from([Consent.SCHOOL, Consent.SCHOOL, Consent.GROUP,
                                    Consent.NONE]))
    return roster, pictures, min_children, default


def with_labels(jpeg: bytes, packet: bytes) -> bytes:
    """The same JPEG image data with an XMP APP1 segment, as a photo app adds labels."""
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def write(root: Path, roster: Roster, pictures) -> dict[str, tuple[str, list, bool]]:
    """The posts; returns {file name: (page, [(text, form)], mark)} per copy."""
    written, lines = {}, {page: [] for page in POSTS}
    for p, copies in enumerate(pictures):
        rnd = random.Random(p)
        base = io.BytesIO()
        Image.frombytes("RGB", (24, 16), rnd.randbytes(24 * 16 * 3)).save(base, "JPEG")
        for c, (page, tags, embedded, mark, fmt) in enumerate(copies):
            texts = [(tag_text(roster.children[t], form) if form != "unknown" else t, form)
                     for t, form in tags]
            inside = [text for (text, _), e in zip(texts, embedded, strict=True) if e]
            listed = [text for (text, _), e in zip(texts, embedded, strict=True) if not e]
            name = f"foto-{p}-{c}.{'jpg' if fmt == 'jpeg' else 'png'}"
            path = root / page / name
            if fmt == "jpeg":
                path.write_bytes(with_labels(base.getvalue(), xmp(regions=inside)))
            else:
                info = PngImagePlugin.PngInfo()
                info.add_itxt("XML:com.adobe.xmp", xmp(persons=inside).decode())
                Image.open(io.BytesIO(base.getvalue())).save(path, "PNG", pnginfo=info)
            if listed:
                lines[page].append(f"{name}: " + ", ".join(listed))
            if mark:
                lines[page].append(f"{name}: geen herkenbare kinderen")
            written[name] = (page, texts, mark)
    for page in POSTS:
        (root / page / "fotos.txt").write_text("\n".join(lines[page]) + "\n", encoding="utf-8")
    return written


def oracle(roster, pages, copies, page, min_children, default) -> bool:
    """May the copy on `page` be published? The union rule over all copies of its picture."""
    marks = any(mark for _, _, mark in copies)
    named = [(text, form, p) for p, texts, _ in copies for text, form in texts]
    if marks:
        return not named
    if not named:
        return False
    chosen = set()
    for text, form, p in named:  # each name among the audience of its own copy's page
        audience = [roster.children[c] for c in pages[p].children]
        found = candidates(text, form, audience)
        if len(found) != 1:
            return False
        chosen.add(found[0].id)
    section = pages[page]
    if not chosen <= section.children:
        return False
    if any(section.kind not in (roster.children[c].consent or default).allowed_kinds
           for c in chosen):
        return False
    return len(chosen) >= min_children


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_every_copy_is_decided_on_the_union_of_all_copies(scenario):
    roster, pictures, min_children, default = scenario
    pages = sections_for(roster)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for page in POSTS:
            (tmp / page).mkdir()
            (tmp / page / "index.md").write_text("Title: t\n")
        copies_of = write(tmp, roster, pictures)
        cfg = PhotoSettings(min_children=min_children, consent_default=default,
                            cache_dir=tmp / "cache", audit_dir=tmp / "audit", workers=1,
                            large_size=32, thumb_size=16)
        results = process_posts([(tmp / page, pages[page]) for page in POSTS], roster, cfg,
                                tmp / "out")
        published = {Path(r.photo).name for res in results for r in res.reports if r.published}
        def number(name: str) -> str:  # foto-<picture>-<copy>.<ext>
            return name.split("-")[1]

        picture = {name: [copy for other, copy in copies_of.items()
                          if number(other) == number(name)] for name in copies_of}
        expected = {name for name, (page, _, _) in copies_of.items()
                    if oracle(roster, pages, picture[name], page, min_children, default)}
        shared = [n for n in expected if len(picture[n]) > 1]
        event(f"copies {max(len(c) for c in pictures)}, published {min(len(expected), 2)}, "
              f"of which copies of one picture {min(len(shared), 2)}")
        event(f"codes {sorted({r.code for res in results for r in res.reports})}")
        assert published == expected, (published ^ expected, pictures)

        for name in published:  # what the picture shows, tagged on any copy of it
            page = copies_of[name][0]
            for p, texts, _ in picture[name]:
                for text, form in texts:
                    [child] = candidates(text, form, [roster.children[c]
                                                      for c in pages[p].children])
                    assert child.id in pages[page].children
                    consent = child.consent or default
                    assert pages[page].kind in consent.allowed_kinds, (name, child.id, page)
