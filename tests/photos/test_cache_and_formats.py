"""Cache behaviour and input formats (HEIC, CMYK, alpha, EXIF orientation)."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image, ImageCms

from plugins.photos.encode import encode
from plugins.photos.posts import process_post
from plugins.photos.settings import PhotoSettings

from .conftest import gps_exif, group_photo, repaint, xmp

NAMES = ["Zoë", "Sem B.", "Sara"]


def test_warm_run_encodes_nothing_and_changed_setting_encodes_all(post, roster, sections,
                                                                  settings, tmp_path):
    for i in range(3):
        group_photo(post / f"f{i}.jpg", NAMES, colour=(i * 60, 90, 30))
    section = sections.get("group", "groep-3")
    cold = process_post(post, section, roster, settings, tmp_path / "out1")
    assert cold.encoded == 3 and len(cold.photos) == 3
    warm = process_post(post, section, roster, settings, tmp_path / "out2")
    assert warm.encoded == 0 and warm.photos == cold.photos
    assert sorted(p.name for p in (tmp_path / "out2").rglob("*.*")) == sorted(
        p.name for p in (tmp_path / "out1").rglob("*.*"))
    changed = process_post(post, section, roster, settings.with_(jpeg_quality=70),
                           tmp_path / "out3")
    assert changed.encoded == 3
    assert changed.photos[0].large_jpeg != cold.photos[0].large_jpeg
    # an edited photo (new bytes) is re-encoded, the others are not
    group_photo(post / "f1.jpg", NAMES, colour=(1, 2, 3))
    again = process_post(post, section, roster, settings, tmp_path / "out4")
    assert again.encoded == 1


def test_new_pixels_with_size_and_mtime_kept_are_published_from_the_new_bytes(
        post, roster, sections, settings, tmp_path, monkeypatch):
    """An edit in place whose app sets the mtime back (size, inode, mtime unchanged: only the
    ctime moves) must not publish the renditions of the photo as it was."""
    monkeypatch.setattr("plugins.digests.RACY_NS", 0)  # trust the index at once: a fast test
    group_photo(post / "a.jpg", NAMES, colour=(40, 90, 60))
    section = sections.get("group", "groep-3")
    first = process_post(post, section, roster, settings, tmp_path / "out1")
    repaint(post / "a.jpg", 9)
    second = process_post(post, section, roster, settings, tmp_path / "out2")
    assert second.encoded == 1 and second.photos[0].large_jpeg != first.photos[0].large_jpeg
    fresh = process_post(post, section, roster, settings.with_(cache_dir=tmp_path / "c2"),
                         tmp_path / "out3")
    assert second.photos == fresh.photos


def test_corrupt_cache_entry_is_rebuilt(post, roster, sections, settings, tmp_path):
    group_photo(post / "a.jpg", NAMES)
    section = sections.get("group", "groep-3")
    process_post(post, section, roster, settings, tmp_path / "out1")
    for manifest in settings.cache_dir.rglob("manifest.json"):
        manifest.write_text("{kapot")
    result = process_post(post, section, roster, settings, tmp_path / "out2")
    assert result.encoded == 1 and len(result.photos) == 1


@pytest.mark.parametrize("damage", ["truncated", "altered"])
def test_a_damaged_rendition_in_the_cache_is_re_encoded_never_published(post, roster, sections,
                                                                        settings, tmp_path, damage):
    """A rendition's bytes must hash to its name before it is copied out: a truncated file (a
    full disk, a killed copy) or one changed afterwards, same size, is re-encoded."""
    group_photo(post / "a.jpg", NAMES)
    section = sections.get("group", "groep-3")
    process_post(post, section, roster, settings, tmp_path / "out1")
    cached = sorted(settings.cache_dir.rglob("*-1600.jpg"))
    assert len(cached) == 1
    data = cached[0].read_bytes()
    cached[0].unlink()  # out1 keeps its own link to the good bytes
    cached[0].write_bytes(data[:len(data) // 2] if damage == "truncated"
                          else data[:-1] + bytes([data[-1] ^ 0xFF]))
    result = process_post(post, section, roster, settings, tmp_path / "out2")
    assert result.encoded == 1 and len(result.photos) == 1
    for path in (tmp_path / "out2").rglob("*.*"):
        assert hashlib.sha256(path.read_bytes()).hexdigest()[:20] == path.name[:20], path.name
    assert (tmp_path / "out2" / section.dir / "fotos" / cached[0].name).read_bytes() == data


def test_cold_run_uses_process_pool(post, roster, sections, settings, tmp_path):
    for i in range(4):
        group_photo(post / f"f{i}.jpg", NAMES, colour=(i * 50, 10, 10))
    result = process_post(post, sections.get("group", "groep-3"), roster,
                          settings.with_(workers=2), tmp_path / "out")
    assert result.encoded == 4 and len(result.photos) == 4


def sizes(data: bytes, **cfg):
    from plugins.photos.settings import PhotoSettings

    outs = encode(data, PhotoSettings(large_size=100, thumb_size=30, **cfg))
    return {(o.role, o.format): (o.width, o.height, blob) for o, blob in outs}


def test_heic_is_decoded():
    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.new("RGB", (160, 120), (200, 30, 30)).save(buf, "HEIF", quality=80,
                                                     xmp=xmp(regions=NAMES))
    from plugins.photos.tags import read_embedded_tags

    assert [t.text for t in read_embedded_tags(buf.getvalue())[0]] == NAMES
    out = sizes(buf.getvalue())
    w, h, blob = out[("large", "jpeg")]
    assert (w, h) == (100, 75)
    r, g, b = Image.open(io.BytesIO(blob)).getpixel((50, 37))
    assert r > 150 and g < 80 and b < 80


def test_cmyk_becomes_rgb_with_and_without_profile():
    buf = io.BytesIO()
    Image.new("CMYK", (80, 60), (0, 255, 255, 0)).save(buf, "JPEG")  # pure red ink
    w, h, blob = sizes(buf.getvalue())[("large", "jpeg")]
    im = Image.open(io.BytesIO(blob))
    assert im.mode == "RGB"
    r, g, b = im.getpixel((40, 30))
    assert r > 200 and g < 60 and b < 60


def test_icc_profile_is_applied_not_copied():
    """An Adobe-RGB-like wide profile changes the pixels, and is not embedded."""
    lab = ImageCms.createProfile("LAB")
    srgb = ImageCms.createProfile("sRGB")
    assert lab and srgb
    buf = io.BytesIO()
    profile = ImageCms.ImageCmsProfile(srgb).tobytes()
    Image.new("RGB", (50, 40), (10, 200, 10)).save(buf, "JPEG", icc_profile=profile)
    w, h, blob = sizes(buf.getvalue())[("large", "jpeg")]
    im = Image.open(io.BytesIO(blob))
    assert "icc_profile" not in im.info
    assert im.getpixel((25, 20))[1] > 150


def test_png_alpha_is_flattened_on_white():
    im = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    im.paste((0, 0, 255, 255), (0, 0, 20, 40))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    w, h, blob = sizes(buf.getvalue())[("large", "jpeg")]
    out = Image.open(io.BytesIO(blob))
    assert out.mode == "RGB"
    assert min(out.getpixel((35, 20))) > 240  # transparent -> white, not black or red
    assert out.getpixel((5, 20))[2] > 200


def test_exif_orientation_is_applied():
    """Stored landscape 160x80 with orientation 6 (rotate 90) is shown portrait."""
    im = Image.new("RGB", (160, 80), (0, 0, 0))
    im.paste((255, 255, 255), (0, 0, 80, 80))  # left half white
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=gps_exif(orientation=6).tobytes())
    out = sizes(buf.getvalue())
    w, h, blob = out[("large", "jpeg")]
    assert (w, h) == (50, 100)
    assert out[("thumb", "webp")][:2] == (15, 30)
    shown = Image.open(io.BytesIO(blob))
    assert shown.getpixel((25, 10))[0] > 200 and shown.getpixel((25, 90))[0] < 50


def test_draft_scaling_keeps_requested_size():
    big = io.BytesIO()
    Image.effect_noise((1700, 1200), 40).convert("RGB").save(big, "JPEG")
    out = sizes(big.getvalue())
    assert out[("large", "jpeg")][:2] == (100, 71)


def test_prune_forgets_photos_no_longer_published(post, roster, sections, settings, tmp_path):
    from plugins.photos.posts import process_posts

    section = sections.get("group", "groep-3")
    group_photo(post / "a.jpg", NAMES, colour=(1, 1, 1))
    group_photo(post / "b.jpg", NAMES, colour=(2, 2, 2))
    stranger = settings.cache_dir / "niet-van-ons"
    stranger.mkdir(parents=True)
    process_posts([(post, section)], roster, settings, tmp_path / "o1", prune=True)
    assert len(list(settings.cache_dir.glob("*/*/*/manifest.json"))) == 2
    (post / "fotos.txt").write_text("b.jpg: Wessel\n")  # an unknown name on b: dropped
    process_posts([(post, section)], roster, settings, tmp_path / "o2", prune=True)
    assert len(list(settings.cache_dir.glob("*/*/*/manifest.json"))) == 1
    assert stranger.is_dir()  # never deletes what it did not write
    process_posts([(post, section)], roster, settings.with_(thumb_size=300), tmp_path / "o3",
                  prune=True)
    # the new key dir, sources.json, renditions.json, pixels.json and the stranger
    assert len(list(settings.cache_dir.glob("*"))) == 5


def test_consent_change_is_retroactive(post, roster, sections, settings, tmp_path):
    """Withdrawn consent: the next build (fresh output, warm cache) has no copy of the photo."""
    from dataclasses import replace

    from plugins.roster import Consent

    section = sections.get("group", "groep-3")
    group_photo(post / "a.jpg", NAMES)
    before = process_post(post, section, roster, settings, tmp_path / "out1")
    assert len(before.photos) == 1
    children = dict(roster.children)
    children["sara-dewit"] = replace(children["sara-dewit"], consent=Consent.NONE)
    after = process_post(post, section, replace(roster, children=children), settings,
                         tmp_path / "out2")
    assert after.photos == () and after.reports[0].code == "no_consent"
    assert not list((tmp_path / "out2").rglob("*.*"))


def _published(root):
    return {p.name: p for p in root.rglob("*") if p.is_file()}


def test_rebuild_links_renditions_and_leaves_published_files_alone(post, roster, sections,
                                                                   settings, tmp_path):
    """Renditions are hard links to the cache; a rebuild into the same output touches nothing."""
    for i in range(2):
        group_photo(post / f"f{i}.jpg", NAMES, colour=(i * 90, 40, 40))
    section = sections.get("group", "groep-3")
    out = tmp_path / "out"
    process_post(post, section, roster, settings, out)
    files = _published(out)
    cached = {p.name: p for p in settings.cache_dir.rglob("*") if p.name in files}
    assert len(files) == 8 and cached.keys() == files.keys()
    for name, path in files.items():  # no second copy of a child's photo on disk
        assert path.samefile(cached[name])
    before = {name: (p.stat().st_ino, p.stat().st_mtime_ns) for name, p in files.items()}
    again = process_post(post, section, roster, settings, out)
    assert again.encoded == 0
    assert {name: (p.stat().st_ino, p.stat().st_mtime_ns)
            for name, p in _published(out).items()} == before


def test_published_copy_of_same_size_is_kept_and_a_broken_one_replaced(post, roster, sections,
                                                                       settings, tmp_path):
    """Names are content hashes: a file of the right size stays as it is (rsync sees no change);
    a truncated leftover is replaced by a new file, never written into (it may be a link)."""
    group_photo(post / "a.jpg", NAMES)
    section = sections.get("group", "groep-3")
    out = tmp_path / "out"
    process_post(post, section, roster, settings, out)
    large, thumb = sorted(_published(out).values(), key=lambda p: -p.stat().st_size)[:2]
    kept = large.read_bytes()
    large.unlink()
    large.write_bytes(kept)  # an earlier build's copy: same bytes, its own inode and mtime
    os.utime(large, ns=(1_000_000_000, 1_000_000_000))
    good = thumb.read_bytes()
    cache_copy = next(settings.cache_dir.rglob(thumb.name))
    thumb.unlink()  # a leftover of a crashed copy: its own inode, too short
    thumb.write_bytes(good[:100])
    process_post(post, section, roster, settings, out)
    assert large.stat().st_mtime_ns == 1_000_000_000 and not large.samefile(
        next(settings.cache_dir.rglob(large.name)))
    assert thumb.read_bytes() == good and thumb.samefile(cache_copy)
    assert cache_copy.read_bytes() == good


def test_renditions_are_copied_when_the_cache_is_on_another_filesystem(post, roster, sections,
                                                                       tmp_path):
    other = Path("/dev/shm")
    if not other.is_dir() or other.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second filesystem here to hold the cache")
    group_photo(post / "a.jpg", NAMES)
    with tempfile.TemporaryDirectory(dir=other) as cache:
        cfg = PhotoSettings(cache_dir=Path(cache), audit_dir=tmp_path / "audit", workers=1)
        result = process_post(post, sections.get("group", "groep-3"), roster, cfg,
                              tmp_path / "out")
        assert len(result.photos) == 1
        for name, path in _published(tmp_path / "out").items():
            assert path.read_bytes() == next(Path(cache).rglob(name)).read_bytes()


def test_a_cold_run_shows_a_progress_bar_with_the_time_left(tmp_path, capsys):
    """The admin sees how far a cold build is and how long it still takes (tqdm's
    [elapsed<left]); a warm run, with nothing to encode, shows none."""
    from plugins.photos.encode import encode_all

    cfg = PhotoSettings(cache_dir=tmp_path / "cache", audit_dir=tmp_path / "audit", workers=1,
                        large_size=64, thumb_size=32)
    sources = {}
    for i in range(3):
        path = tmp_path / f"foto-{i}.jpg"
        Image.effect_noise((120, 90), 20 + i).convert("RGB").save(path, "JPEG")
        sources[hashlib.sha256(path.read_bytes()).hexdigest()] = path
    encode_all(sources, cfg, progress=True)
    bar = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert "foto's" in bar and "3/3" in bar
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d", bar), bar  # elapsed < time left
    encode_all(sources, cfg, progress=True)
    assert "foto's" not in capsys.readouterr().err
