"""The benchmarks' school year has photos with different pixels, as a real one does.

A photo cache keyed by pixels would otherwise encode one photo and reuse it for all the
others, and the cold-year figure would be far below what a school pays.
"""

from __future__ import annotations

import hashlib
import io

from PIL import Image

from benchmarks.photos import make_photo, variant


def _pixels(jpeg: bytes, draft: tuple[int, int] | None = None) -> str:
    with Image.open(io.BytesIO(jpeg)) as im:
        if draft:
            im.draft("RGB", draft)
        return hashlib.sha256(im.convert("RGB").tobytes()).hexdigest()


def test_every_variant_decodes_to_other_pixels_also_at_half_scale(tmp_path):
    master = tmp_path / "m.jpg"
    make_photo(master, 3, (640, 480))
    jpeg = master.read_bytes()
    numbers = [0, 1, 2, 3, 4, 5, 63, 64, 255, 1000, 7799]
    variants = [variant(jpeg, n) for n in numbers]
    assert variants[0] == jpeg  # variant 0 is the master itself
    assert len({_pixels(v) for v in variants}) == len(numbers)
    assert len({_pixels(v, (320, 240)) for v in variants}) == len(numbers)
    assert all(len(v) == len(jpeg) for v in variants)  # no re-encode: same size, same cost


def test_the_blur_benchmark_blurs_a_face_the_pipeline_accepts(tmp_path):
    """blur_one_face measures a real blur: its region is drawn for the photos' own size, so
    the encoder takes it (a region it refuses would stop the benchmark, not time nothing)."""
    from benchmarks.photos import SIZE, blur_cost
    from plugins.photos.settings import PhotoSettings

    photo = tmp_path / "p.jpg"
    make_photo(photo, 1, SIZE)
    cost = blur_cost([photo], PhotoSettings(audit_dir=tmp_path / "audit"), runs=1)
    assert cost["pipeline_blur_ms"] > 0 and cost["mosaic_ms"] > 0 and cost["ratio"] > 0


def test_the_benchmark_master_is_written_as_a_phone_writes_it(tmp_path):
    """Phones write baseline JPEG with 4:2:0 chroma: a progressive or 4:4:4 master would
    decode much slower than a real school year and overstate the cold year."""
    from benchmarks.photos import master_info

    master = tmp_path / "m.jpg"
    make_photo(master, 0, (800, 600))
    info = master_info(master)
    assert info["progressive"] is False and info["subsampling"] == "4:2:0", info
    assert 1.5 <= info["bits_per_pixel"] <= 6, info  # a phone's 12 MP JPEG: 3-6 MB
