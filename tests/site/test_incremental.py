"""Incremental builds give exactly what a clean build gives, whatever was edited in between."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from plugins.roster import load_roster, write_roster
from plugins.settings import load_settings
from plugins.site import build as clean_build
from postvak import PostvakSettings, Received, export_threads, intake, process
from tasks.common import STAGING
from tasks.common import build as incremental_build
from tests.helpers import ROOT, family_id
from tests.photos.conftest import group_photo, repaint, xmp

GROUPS = ("groep-1", "groep-2")
KIDS = [(f"kind-{i}", name, "Jansen" if i % 2 else "Bos", GROUPS[i % 2])
        for i, name in enumerate(["Anna", "Bram", "Cas", "Daan", "Eva", "Fleur", "Gijs", "Hugo"])]
FAMILIES = [family_id(i) for i in range(len(KIDS))]


def write_school(root: Path, consent: dict[str, str], moved: dict[str, str]) -> None:
    """The roster; `moved` also holds roster edits by key: ("left", child) and ("email", i)."""
    left = {k for k, *_ in KIDS if moved.get(("left", k))}
    write_roster(root / "roster",
                 groups=[[g, g.replace("-", " ").title(), "2026-2027"] for g in GROUPS],
                 children=[[k, first, last, moved.get(k, group), consent.get(k, "")]
                           for k, first, last, group in KIDS if k not in left],
                 parents=[[f"ouder-{i}", f"Ouder Nummer{i}",
                           moved.get(("email", i), f"ouder{i}@example.nl"), FAMILIES[i], k]
                          for i, (k, *_rest) in enumerate(KIDS) if k not in left],
                 staff=[["mt-1", "Directeur Eén", "d@example.nl", "directie", ""]])


def post(folder: Path, title: str, text: str, day: int) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text(f"Title: {title}\nDate: 2026-10-{day:02d} 10:00\n\n{text}\n")


def photo_post(folder: Path, names: list[str], day: int, shade: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    post(folder / "index.md", "Uitje", "Met foto's.", day)
    group_photo(folder / "a.jpg", names, colour=(shade, 90, 60))
    (folder / "fotos.txt").write_text("")


EDITS = st.one_of(
    st.tuples(st.just("post"), st.sampled_from(["school", *[f"groep/{g}" for g in GROUPS],
                                                f"gezin/{FAMILIES[0]}"]),
              st.integers(1, 28), st.text("abc xyz", min_size=1, max_size=12)),
    st.tuples(st.just("edit"), st.integers(0, 5), st.text("klm nop", min_size=1, max_size=12)),
    st.tuples(st.just("delete"), st.integers(0, 5)),
    st.tuples(st.just("move"), st.integers(0, 5), st.sampled_from(["school", "groep/groep-2"])),
    st.tuples(st.just("photos"), st.sampled_from(GROUPS), st.integers(1, 28),
              st.sampled_from([(0, 1, 2), (1, 2, 3), (0, 1, 2, 3)]), st.integers(0, 255)),
    st.tuples(st.just("retag"), st.integers(0, 5),
              st.sampled_from(["geen herkenbare kinderen", "Anna, Cas, Eva", "Bram, Daan, Fleur"])),
    # the same picture again in another post: PNG of its pixels or the JPEG without its labels
    st.tuples(st.just("reuse"), st.integers(0, 5),
              st.sampled_from(["school", *[f"groep/{g}" for g in GROUPS]]),
              st.sampled_from(["png", "jpg"]),
              st.sampled_from(["", "geen herkenbare kinderen", "Anna, Cas, Eva",
                               "Bram, Daan, Fleur"])),
    st.tuples(st.just("consent"), st.sampled_from([k[0] for k in KIDS]),
              st.sampled_from(["", "geen", "groep", "school"])),
    st.tuples(st.just("child_moves"), st.sampled_from([k[0] for k in KIDS]),
              st.sampled_from(GROUPS)),
    # a pupil leaves school with their family (not kind-0: the family posts are theirs)
    st.tuples(st.just("leaves"), st.sampled_from([k[0] for k in KIDS[1:]])),
    st.tuples(st.just("email"), st.integers(0, len(KIDS) - 1), st.sampled_from(["a", "b"])),
    st.tuples(st.just("same_roster")),  # rewritten with the same bytes: the caches may hit
    # a photo's pixels changed in place, its size, inode and mtime kept (only its ctime moves)
    st.tuples(st.just("repaint"), st.integers(0, 5), st.integers(1, 40)),
    st.tuples(st.just("swap"), st.integers(0, 5), st.integers(0, 5)),  # two photos by rename
    # a photo post moved to another section, as a folder (its tags and photos unchanged)
    st.tuples(st.just("move_photos"), st.integers(0, 5),
              st.sampled_from(["school", *[f"groep/{g}" for g in GROUPS]])),
    # a photo app's sidecar beside a photo: its names count with the others
    st.tuples(st.just("sidecar"), st.integers(0, 5),
              st.sampled_from([("Anna",), ("Bram", "Daan", "Fleur"), ("Zoy",)])),
)


def posts_of(content: Path) -> list[Path]:
    return sorted(p for p in content.rglob("*.md") if "publiek" not in p.parts)


def apply(edit, school: Path, consent: dict, moved: dict) -> None:
    content = school / "content"
    kind = edit[0]
    existing = posts_of(content)
    if kind == "post":
        _, where, day, text = edit
        post(content / where / f"2026-10-{day:02d}-bericht-{len(existing)}.md", f"B {text}",
             text, day)
    elif kind == "edit" and existing:
        target = existing[edit[1] % len(existing)]
        target.write_text(target.read_text() + f"\n{edit[2]}\n")
    elif kind == "delete" and existing:
        target = existing[edit[1] % len(existing)]
        shutil.rmtree(target.parent) if target.name == "index.md" else target.unlink()
    elif kind == "move" and existing:
        target = existing[edit[1] % len(existing)]
        if target.name != "index.md":
            destination = content / edit[2] / target.name
            destination.parent.mkdir(parents=True, exist_ok=True)
            target.rename(destination)
    elif kind == "photos":  # tagged with children of that group (as the roster first had it)
        _, group, day, which, shade = edit
        members = [first for _k, first, _last, g in KIDS if g == group]
        photo_post(content / "groep" / group / f"2026-10-{day:02d}-uitje-{shade}",
                   [members[i] for i in which], day, shade)
    elif kind == "retag":
        folders = sorted(p.parent for p in content.rglob("fotos.txt"))
        if folders:
            (folders[edit[1] % len(folders)] / "fotos.txt").write_text(f"a.jpg: {edit[2]}\n")
    elif kind == "reuse":
        _, which, where, fmt, names = edit
        folders = sorted(p.parent for p in content.rglob("a.jpg"))
        if folders:
            copy = content / where / f"2026-10-27-kopie-{len(existing)}"
            copy.mkdir(parents=True)
            post(copy / "index.md", "Terugblik", "Nog eens.", 27)
            reuse(folders[which % len(folders)] / "a.jpg", copy / f"b.{fmt}")
            (copy / "fotos.txt").write_text(f"b.{fmt}: {names}\n" if names else "")
    elif kind == "repaint":
        photos = sorted(content.rglob("a.jpg"))
        if photos:
            repaint(photos[edit[1] % len(photos)], edit[2])
    elif kind == "swap":
        photos = sorted(content.rglob("a.jpg"))
        first, second = (photos[edit[1] % len(photos)], photos[edit[2] % len(photos)]
                         ) if photos else (None, None)
        if first != second:
            first.rename(first.with_name("tussen.tmp"))
            second.rename(first)
            first.with_name("tussen.tmp").rename(second)
    elif kind == "move_photos":
        folders = sorted(p.parent for p in content.rglob("a.jpg"))
        if folders:
            folder = folders[edit[1] % len(folders)]
            target = content / edit[2] / folder.name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                folder.rename(target)
    elif kind == "sidecar":
        photos = sorted(content.rglob("a.jpg"))
        if photos:
            sidecar = photos[edit[1] % len(photos)].with_name("a.jpg.xmp")
            sidecar.write_bytes(xmp(persons=edit[2]))
    elif kind == "consent":
        consent[edit[1]] = edit[2]
    elif kind == "child_moves":
        moved[edit[1]] = edit[2]
    elif kind == "leaves":
        moved[("left", edit[1])] = True
    elif kind == "email":
        moved[("email", edit[1])] = f"ouder{edit[1]}.{edit[2]}@example.nl"
    write_school(school, consent, moved)


def reuse(photo: Path, target: Path) -> None:
    """The same pixels as `photo`: a PNG of them, or the JPEG's image data without its labels."""
    if target.suffix == ".png":
        with Image.open(photo) as im:
            im.convert("RGB").save(target, "PNG")
        return
    data, pos, kept = photo.read_bytes(), 2, [b"\xff\xd8"]
    while data[pos + 1] != 0xDA:  # up to the image data: drop every APP1 (EXIF, XMP)
        end = pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        if data[pos + 1] != 0xE1:
            kept.append(data[pos:end])
        pos = end
    target.write_bytes(b"".join(kept) + data[pos:])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(EDITS, min_size=1, max_size=4))
@example([("photos", "groep-1", 5, (0, 1, 2), 10),
          ("retag", 0, "geen herkenbare kinderen")])  # the photos change, the post does not
@example([("photos", "groep-2", 6, (0, 1, 2), 20), ("consent", "kind-1", "geen")])
@example([("post", "groep/groep-1", 3, "a"), ("move", 1, "school")])
@example([("photos", "groep-2", 6, (0, 1, 2), 20), ("same_roster",), ("leaves", "kind-3")])
@example([("photos", "groep-1", 7, (0, 1, 2), 30), ("child_moves", "kind-2", "groep-2"),
          ("same_roster",), ("consent", "kind-4", "geen"), ("consent", "kind-4", "")])
@example([("photos", "groep-1", 5, (0, 1, 2), 10), ("reuse", 0, "school", "png", ""),
          ("consent", "kind-0", "geen")])  # a withdrawal drops the copy that never names her
@example([("photos", "groep-2", 6, (0, 1, 2), 20),
          ("reuse", 0, "groep/groep-2", "jpg", "geen herkenbare kinderen"),
          ("retag", 0, "Bram, Daan, Fleur")])
@example([("photos", "groep-1", 5, (0, 1, 2), 10), ("repaint", 0, 7)])
@example([("photos", "groep-1", 5, (0, 1, 2), 10), ("photos", "groep-2", 6, (0, 1, 2), 200),
          ("swap", 0, 1), ("retag", 0, "Anna, Cas, Eva")])
# the tags and decisions remembered per post folder (plugins.photos.outcomes), each after a
# build that stored them: consent withdrawn, tag changed, child moved group, post moved
# section, roster change, photo edited in place, a sidecar added
@example([("photos", "groep-1", 5, (0, 1, 2), 10), ("same_roster",), ("consent", "kind-2", "geen")])
@example([("photos", "groep-2", 6, (0, 1, 2), 20), ("same_roster",),
          ("retag", 0, "Anna, Cas, Eva")])
@example([("photos", "groep-1", 5, (0, 1, 2), 10), ("same_roster",),
          ("child_moves", "kind-0", "groep-2")])
@example([("photos", "groep-1", 5, (0, 1, 2), 10), ("same_roster",),
          ("move_photos", 0, "groep/groep-2"), ("move_photos", 0, "school")])
@example([("photos", "groep-2", 6, (0, 1, 2), 20), ("same_roster",), ("leaves", "kind-3")])
@example([("photos", "groep-1", 5, (0, 1, 2), 10), ("same_roster",), ("repaint", 0, 9)])
@example([("photos", "groep-1", 5, (0, 1, 2), 10), ("same_roster",), ("sidecar", 0, ("Zoy",)),
          ("sidecar", 0, ("Bram", "Daan", "Fleur"))])
def test_incremental_builds_equal_a_clean_build(tmp_path_factory, edits):
    # every digest remembered is trusted at once (plugins.digests waits RACY_NS after a
    # file's change): the edits come seconds apart at most, and must still miss the cache
    with mock.patch("plugins.digests.RACY_NS", 0):
        _builds_equal_a_clean_build(tmp_path_factory, edits)


def _builds_equal_a_clean_build(tmp_path_factory, edits):
    school = tmp_path_factory.mktemp("school")
    consent: dict[str, str] = {}
    moved: dict[str, str] = {}
    write_school(school, consent, moved)
    shutil.copytree(ROOT / "content" / "publiek", school / "content" / "publiek")
    post(school / "content" / "school" / "2026-10-01-welkom.md", "Welkom", "Hallo.", 1)
    cfg = dataclasses.replace(load_settings(ROOT, dict(os.environ)), roster=school / "roster",
                              content=school / "content", output=school / "output",
                              build_cache=school / "bcache", photo_cache=school / "pcache",
                              audit=school / "audit", private=school / "private")
    incremental_build(cfg)
    for edit in edits:
        apply(edit, school, consent, moved)
        incremental_build(cfg)
    clean_build(output_path=str(school / "clean"), schoolplein_roster=str(school / "roster"),
                path=str(school / "content"), photo_cache_dir=str(school / "pcache-clean"),
                photo_audit_dir=str(school / "audit-clean"))
    assert snapshot(school / "output") == snapshot(school / "clean"), edits


def small_school(tmp_path: Path, consent: dict, moved: dict):
    school = tmp_path / "school"
    write_school(school, consent, moved)
    shutil.copytree(ROOT / "content" / "publiek", school / "content" / "publiek")
    post(school / "content" / "school" / "2026-10-01-welkom.md", "Welkom", "Hallo.", 1)
    return school, dataclasses.replace(
        load_settings(ROOT, dict(os.environ)), roster=school / "roster",
        content=school / "content", output=school / "output", build_cache=school / "bcache",
        photo_cache=school / "pcache", audit=school / "audit", private=school / "private")


def test_a_withdrawal_removes_every_copy_of_a_picture_in_an_incremental_build(tmp_path):
    """Anna is tagged on the groep-1 photo; its PNG on the school page names three others.
    Her parents withdraw: the next (incremental, warm) build publishes neither copy."""
    consent: dict[str, str] = {}
    school, cfg = small_school(tmp_path, consent, {})
    for edit in (("photos", "groep-1", 5, (0, 1, 2), 10),
                 ("reuse", 0, "school", "png", "Cas, Eva, Gijs")):
        apply(edit, school, consent, {})
    incremental_build(cfg)
    photos = lambda page: sorted((cfg.output / page / "fotos").glob("*"))  # noqa: E731
    assert len(photos("groep/groep-1")) == 4 and len(photos("school")) == 4
    apply(("consent", "kind-0", "geen"), school, consent, {})
    incremental_build(cfg)
    assert photos("groep/groep-1") == [] and photos("school") == []


def demo_cfg(tmp_path: Path, **extra):
    """Settings for a private copy of the demo school's roster and content in `tmp_path`."""
    for name in ("roster", "content"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return dataclasses.replace(load_settings(ROOT, dict(os.environ)), roster=tmp_path / "roster",
                               content=tmp_path / "content", output=tmp_path / "output",
                               build_cache=tmp_path / "bcache", photo_cache=tmp_path / "pcache",
                               audit=tmp_path / "audit", private=tmp_path / "private", **extra)


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder` -> (inode, mtime in ns)."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


def test_one_new_post_rewrites_only_its_own_files(tmp_path):
    """The demo school, built, then a teacher adds one post: every other file keeps its bytes,
    inode and mtime (so rsync and the S3 sync see nothing to do) and no photo is encoded."""
    cfg = demo_cfg(tmp_path)
    incremental_build(cfg)
    before = stamps(cfg.output)
    post(cfg.content / "groep" / "groep-4" / "2026-11-20-nieuw.md", "Nieuw", "Vandaag.", 20)
    built = incremental_build(cfg)
    after = stamps(cfg.output)
    changed = sorted(rel for rel in after if before.get(rel) != after[rel])
    # and the team pages of who posts to groep 4 (its last post, the directie's post list)
    team = sorted(f"team/{sid}/{page}index.html" for sid in ("lk-03", "mt-01", "mt-02")
                  for page in ("", "nieuw/"))
    assert [r for r in changed if not r.startswith("team/")] == [
        "groep/groep-4/2026-11-20-nieuw/index.html", "groep/groep-4/feed.atom",
        "groep/groep-4/index.html"], changed
    assert "team/mt-01/index.html" in changed and set(changed) - set(team) <= {
        r for r in changed if not r.startswith("team/")}, changed
    assert set(before) <= set(after)
    state = built["SCHOOLPLEIN_BUILD_STATE"]
    assert state.photo_hashes and state.photos_encoded == 0  # photos there, none re-encoded
    # `invoke check` builds into a folder that vanishes: it leaves the cache as it was (the
    # staging folders are not cache: each build's own, the previous output deleted after it)
    def cache_state():
        return sorted((p.as_posix(), p.stat().st_mtime_ns) for top in cfg.build_cache.iterdir()
                      if top.name != STAGING for p in (top, *top.rglob("*")))

    cache = cache_state()
    incremental_build(cfg, output=tmp_path / "check", throwaway=True)
    assert cache_state() == cache


def test_a_postvak_round_rewrites_only_that_familys_page(tmp_path):
    """A parent's message changes their family page's thread and nothing else: the other
    families' pages keep their inode and mtime, and the page equals a clean build's."""
    cfg = demo_cfg(tmp_path, smtp_host="")
    incremental_build(cfg)
    before = stamps(cfg.output)
    parent = load_roster(cfg.roster).parents["ouder-001"]
    body = {"v": 1, "soort": "bericht", "aan": "lk-02", "tekst": "Mag Zoë morgen eerder weg?"}
    ident = str(uuid.uuid4())
    intake(Received(ident, parent.family, parent.email, datetime.now(UTC),
                    json.dumps(body).encode(), "test"), cfg.private)
    assert process(PostvakSettings.from_settings(cfg)).applied == (ident,)
    assert export_threads(cfg.private, load_roster(cfg.roster))
    incremental_build(cfg)
    after = stamps(cfg.output)
    page = f"gezin/{parent.family}/index.html"
    assert sorted(rel for rel in after if before.get(rel) != after[rel]) == [page]
    assert "Mag Zoë morgen eerder weg?" in (cfg.output / page).read_text()
    clean_build(cfg.root / "pelicanconf.py", output_path=str(tmp_path / "clean"),
                schoolplein_roster=str(cfg.roster), path=str(cfg.content),
                photo_cache_dir=str(cfg.photo_cache), photo_audit_dir=str(tmp_path / "audit2"),
                schoolplein_private=str(cfg.private))
    assert (tmp_path / "clean" / page).read_bytes() == (cfg.output / page).read_bytes()


def test_turning_photo_blur_on_and_off_equals_a_clean_build(tmp_path, caplog):
    """SCHOOLPLEIN_PHOTO_BLUR decides which photos a page shows: flipping it between
    incremental builds gives exactly what a clean build with that setting gives; the build
    log counts the photos with a child made unrecognisable."""
    caplog.set_level(logging.INFO)
    school = tmp_path / "school"
    write_school(school, {"kind-2": "geen"}, {})  # Cas: no consent, tagged with a face region
    shutil.copytree(ROOT / "content" / "publiek", school / "content" / "publiek")
    photo_post(school / "content" / "groep" / "groep-1" / "2026-10-05-uitje",
               ["Anna", "Cas", "Eva", "Gijs"], 5, 40)
    base = dataclasses.replace(load_settings(ROOT, dict(os.environ)), roster=school / "roster",
                               content=school / "content", output=school / "output",
                               build_cache=school / "bcache", photo_cache=school / "pcache",
                               audit=school / "audit", private=school / "private")
    for blur in (False, True, False):
        caplog.clear()
        incremental_build(dataclasses.replace(base, photo_blur=blur))
        said = [r.getMessage() for r in caplog.records if "onherkenbaar" in r.getMessage()]
        assert (said[:1] == ["foto's: 1 gepubliceerd (op 1 een kind onherkenbaar gemaakt), 0 niet, "
                             "1 opnieuw gecodeerd"]) if blur else not said, (blur, said)
        clean = tmp_path / f"clean-{blur}"
        clean_build(output_path=str(clean), schoolplein_roster=str(school / "roster"),
                    path=str(school / "content"), photo_cache_dir=str(tmp_path / f"pc-{blur}"),
                    photo_audit_dir=str(tmp_path / f"audit-{blur}"), photo_blur=blur)
        photos = [p for p in snapshot(clean) if "/fotos/" in p]
        assert len(photos) == (4 if blur else 0), blur
        assert snapshot(school / "output") == snapshot(clean), blur
