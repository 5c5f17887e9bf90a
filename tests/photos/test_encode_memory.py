"""Pillow's block cache while photos are encoded (photos.encode._arena): the same published
bytes as without it, and the build process gets its memory back afterwards."""

from __future__ import annotations

import hashlib

import pytest
from PIL import Image

from plugins.photos import encode
from plugins.photos.settings import PhotoSettings


def _year(tmp_path, n=3) -> dict[str, object]:
    sources = {}
    for i in range(n):
        path = tmp_path / f"foto-{i}.jpg"
        Image.effect_noise((400, 300), 20 + i).convert("RGB").save(path, "JPEG")
        sources[hashlib.sha256(path.read_bytes()).hexdigest()] = path
    return sources


def _published(cfg: PhotoSettings) -> dict[str, bytes]:
    root = cfg.cache_dir / cfg.pipeline_key()
    return {p.name: p.read_bytes() for p in root.rglob("*") if p.suffix in (".jpg", ".webp")}


@pytest.mark.parametrize("workers", [1, 2])
def test_the_block_cache_changes_no_published_byte_and_is_given_back(tmp_path, monkeypatch,
                                                                     workers):
    sources = _year(tmp_path)
    before = Image.core.get_blocks_max()
    made = {}
    for blocks in (0, encode.ARENA_BLOCKS):  # 0: as before the block cache existed
        monkeypatch.setattr(encode, "ARENA_BLOCKS", blocks)
        cfg = PhotoSettings(cache_dir=tmp_path / f"cache-{blocks}", audit_dir=tmp_path / "a",
                            workers=workers, large_size=200, thumb_size=80)
        run = encode.encode_all(sources, cfg, progress=False)
        assert all(m.ok for m in run.manifests.values())
        made[blocks] = (_published(cfg), run.keys)
        assert Image.core.get_blocks_max() == before  # the build keeps no cached blocks
        assert Image.core.get_stats()["blocks_cached"] <= before
    (clear, keys), (cached, cached_keys) = made.values()
    assert len(clear) == 4 * len(sources) and cached == clear
    assert cached_keys == keys  # the pixel keys too


def test_a_worker_keeps_its_block_cache_for_every_photo():
    before = Image.core.get_blocks_max()
    try:
        encode._worker_start()
        assert Image.core.get_blocks_max() >= encode.ARENA_BLOCKS > 0
    finally:
        Image.core.set_blocks_max(before)
