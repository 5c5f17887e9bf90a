"""A faster pipeline publishes the same renditions: sizes, no metadata, and the same pixels to
the eye (PSNR against the previous pipeline's renditions and against an ideal resize)."""

from __future__ import annotations

import hashlib
import io
import math

import pytest
from PIL import Image, ImageChops, ImageStat

from benchmarks.photos import make_photo
from plugins.photos import encode
from plugins.photos.settings import PhotoSettings


def psnr(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size
    stat = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB")))
    mse = sum(stat.sum2) / (a.width * a.height * 3)
    return 99.0 if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def previous_pipeline(data: bytes, cfg: PhotoSettings) -> dict[tuple[str, str], Image.Image]:
    """Pipeline version 1, as it was: draft decode, reduce(), LANCZOS; the same encoders."""
    out = {}
    for role, size in (("large", cfg.large_size), ("thumb", cfg.thumb_size)):
        im = Image.open(io.BytesIO(data))
        target = encode._fit(im.size, size)
        im.draft("RGB", encode._fit(im.size, cfg.large_size))
        im = im.convert("RGB")
        factor = int(min(im.width / target[0], im.height / target[1]) / 2)
        if factor >= 2:
            im = im.reduce(factor)
        small = im.resize(target, Image.Resampling.LANCZOS)
        out[(role, "jpeg")] = Image.open(io.BytesIO(encode._encode_one(small, "jpeg", cfg)))
    return out


@pytest.mark.parametrize("size", [(3200, 2400), (4000, 3000)])
def test_renditions_match_the_previous_pipeline_and_an_ideal_resize(tmp_path, size):
    source = tmp_path / "foto.jpg"
    make_photo(source, 5, size)  # version 1 drafted these to 1/2 on decode
    cfg = PhotoSettings(cache_dir=tmp_path / "cache", audit_dir=tmp_path / "audit", workers=1)
    data = source.read_bytes()
    now = {(o.role, o.format): Image.open(io.BytesIO(blob)) for o, blob in encode.encode(data, cfg)}
    before = previous_pipeline(data, cfg)
    full = Image.open(source).convert("RGB")
    for role in ("large", "thumb"):
        new, old = now[(role, "jpeg")], before[(role, "jpeg")]
        assert new.size == old.size == encode._fit(full.size, getattr(cfg, f"{role}_size"))
        # the same photo (no shift, crop or colour change): version 1's DCT-scaled decode was
        # itself only ~32 dB from an ideal resize at 3200x2400, so this bound is not tighter
        assert psnr(new, old) >= 30, role
        ideal = full.resize(new.size, Image.Resampling.LANCZOS, reducing_gap=None)
        assert psnr(new, ideal) >= psnr(old, ideal) - 0.5, role  # no less faithful
        assert now[(role, "webp")].size == new.size
    for im in now.values():  # still nothing but pixels
        assert not im.info.get("exif") and not im.info.get("icc_profile")
        assert not im.info.get("xmp") and "XML:com.adobe.xmp" not in im.info


def version_3(data: bytes, cfg: PhotoSettings) -> dict[tuple[str, str], Image.Image]:
    """Pipeline version 3, as it was: every size reduced from the full decode, WebP method 1."""
    cfg = cfg.with_(webp_method=1)
    im, _icc, original, _frame = encode._decode(data, cfg)
    return {(role, fmt): Image.open(io.BytesIO(encode._encode_one(
                encode._shrink(im, encode._fit(original, getattr(cfg, f"{role}_size"))), fmt, cfg)))
            for role in ("large", "thumb") for fmt in cfg.formats}


@pytest.mark.parametrize("size", [(4000, 3000), (3000, 4000), (1700, 1200), (600, 400)])
def test_one_reduce_chain_publishes_version_3s_renditions_to_the_eye(tmp_path, size):
    """Version 4 (the thumbnail from the large size's reduced image, WebP method 0) gives every
    rendition at exactly version 3's size, >= 40 dB from it, about as many bytes, no metadata."""
    source = tmp_path / "foto.jpg"
    make_photo(source, 2, size)
    data = source.read_bytes()
    cfg = PhotoSettings(cache_dir=tmp_path / "cache", audit_dir=tmp_path / "audit", workers=1)
    outputs = encode.encode(data, cfg)
    now = {(o.role, o.format): Image.open(io.BytesIO(blob)) for o, blob in outputs}
    before = version_3(data, cfg)
    assert now.keys() == before.keys()
    for key, old in before.items():
        assert now[key].size == old.size, key
        assert psnr(now[key], old) >= 40, key
    for o, blob in outputs:  # the manifest's sizes are the files' sizes; nothing but pixels
        im = Image.open(io.BytesIO(blob))
        assert (o.width, o.height) == im.size == before[(o.role, o.format)].size
        assert not im.info.get("exif") and not im.info.get("icc_profile")
        assert not im.info.get("xmp") and "XML:com.adobe.xmp" not in im.info
    webp_bytes = sum(len(b) for o, b in outputs if o.format == "webp")
    old_webp = sum(len(encode._encode_one(
        encode._shrink(encode._decode(data, cfg)[0], encode._fit(size, s)), "webp",
        cfg.with_(webp_method=1))) for s in (cfg.large_size, cfg.thumb_size))
    assert 0.9 <= webp_bytes / old_webp <= 1.1  # the same size class


def test_the_pixel_key_is_version_1s():
    """The faster pipeline keeps the key's values: tags and copies are joined by it, and the
    pixel index (cache/photos/pixels.json) of an earlier build stays valid."""
    w, h = 203, 151
    im = Image.frombytes("RGB", (w, h), hashlib.shake_256(b"schoolplein").digest(w * h * 3))
    assert encode.pixel_key(im) == (
        "97f5bd1068cb68e0f3cba721c3fb03934b3eff51b049145ffd07012d2424b851")  # main c3a4a62
