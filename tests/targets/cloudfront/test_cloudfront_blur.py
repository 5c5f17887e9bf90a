"""PHOTO_BLUR on S3 + CloudFront: a consent withdrawn turns the clear photo into its blurred
version in the bucket at the next publish, and consent given back turns it back.

The class photo (four synthetic textured faces, MWG regions drawn for its size) goes
through the real photo pipeline (process_posts: decide, encode, cache, output) into a
small site tree, published by the real S3 sync to moto's server over HTTP. The clear
renditions are stale photos after the withdrawal: they leave the bucket in the privacy
delete that runs before any upload; the blurred ones are uploaded byte for byte.
"""

from __future__ import annotations

import dataclasses
import io
import statistics
from pathlib import Path

from cf_helpers import bucket_state, make_tree

from plugins.photos.posts import process_posts
from plugins.photos.settings import PhotoSettings
from plugins.roster import Consent
from publish.targets.cloudfront.sync import sync
from tests.photos.faces import draw_face, pixel_box, region_xmp, save, scene

SIZE = (480, 360)
FACES = {"Zoë": (0.2, 0.3, 0.12, 0.16), "Sem B.": (0.75, 0.3, 0.12, 0.16),
         "Sara": (0.3, 0.72, 0.12, 0.16), "Floor": (0.72, 0.72, 0.12, 0.16)}


def without_consent(roster, child="sara-dewit"):
    children = dict(roster.children)
    children[child] = dataclasses.replace(children[child], consent=Consent.NONE)
    return dataclasses.replace(roster, children=children)


def build(post, roster, section_map, cfg, out) -> dict[str, bytes]:
    """A clean build (the tree laid anew, the photo cache kept): the photo's output files."""
    make_tree(out, section_map)
    [result] = process_posts([(post, section_map.get("group", "groep-3"))], roster, cfg, out,
                             prune=True)
    assert len(result.photos) == 1, result.reports[0].reason
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("fotos/*")
            if "groep-3" in p.parts and p.is_file() and p.stat().st_size > 2000}


def publish(moto, bucket, out, section_map) -> dict[str, str]:
    s3 = moto.client()
    sync(out, s3, bucket, section_map, progress=False, out=lambda _: None)
    return bucket_state(s3, bucket)


def object_bytes(moto, bucket, key) -> bytes:
    return moto.client(log=False).get_object(Bucket=bucket, Key=key)["Body"].read()


def face_spread(data: bytes) -> float:
    from PIL import Image

    im = Image.open(io.BytesIO(data)).convert("L")
    return statistics.pstdev(im.crop(pixel_box(FACES["Sara"], im.size)).tobytes())


def test_a_withdrawn_consent_replaces_the_clear_photo_in_the_bucket_by_the_blurred_one(
        moto, bucket, roster, section_map, tmp_path):
    post = tmp_path / "content" / "groep" / "groep-3" / "2026-10-02-uitje"
    post.mkdir(parents=True)
    (post / "index.md").write_text("Title: Uitje\nDate: 2026-10-02\n\nTekst.\n")
    im = scene(SIZE, 7)
    for n, area in enumerate(FACES.values()):
        draw_face(im, pixel_box(area, SIZE), 70 + n)
    (post / "klas.jpg").write_bytes(save(im, "JPEG", xmp=region_xmp(list(FACES.items()),
                                                                    dims=SIZE)))
    cfg = PhotoSettings(blur=True, cache_dir=tmp_path / "cache", audit_dir=tmp_path / "audit",
                        workers=1)
    out = tmp_path / "output"

    clear = build(post, roster, section_map, cfg, out)
    assert len(clear) == 4  # large and thumbnail, JPEG and WebP
    assert clear.keys() <= publish(moto, bucket, out, section_map).keys()

    blurred = build(post, without_consent(roster), section_map, cfg, out)
    assert len(blurred) == 4 and not blurred.keys() & clear.keys()
    remote = publish(moto, bucket, out, section_map)
    assert not clear.keys() & remote.keys()  # the clear photo is gone from the bucket
    assert blurred.keys() <= remote.keys()
    for key, data in blurred.items():
        assert object_bytes(moto, bucket, key) == data
    [large] = [k for k in blurred if k.endswith(".jpg") and f"-{cfg.large_size}." in k]
    [clear_large] = [k for k in clear if k.endswith(".jpg") and f"-{cfg.large_size}." in k]
    assert face_spread(object_bytes(moto, bucket, large)) < face_spread(clear[clear_large]) / 2

    again = build(post, roster, section_map, cfg, out)  # consent back: the clear photo again
    assert again == clear
    remote = publish(moto, bucket, out, section_map)
    assert clear.keys() <= remote.keys() and not blurred.keys() & remote.keys()
    assert not [p for p in Path(cfg.cache_dir).rglob("*") if p.name in
                {k.rsplit("/", 1)[1] for k in blurred}]
