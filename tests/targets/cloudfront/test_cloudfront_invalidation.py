"""Invalidations reach CloudFront (moto's server): changed pages and revoked photos only."""

from __future__ import annotations

from cf_helpers import distribution, invalidated_paths, make_tree

from publish.targets.cloudfront.sync import sync


def test_a_republish_invalidates_what_changed_and_nothing_when_nothing_did(
        tmp_path, moto, bucket, section_map):
    s3, cloudfront = moto.client(), moto.client("cloudfront")
    dist = distribution(cloudfront, bucket)
    out = tmp_path / "output"
    files = make_tree(out, section_map)
    quiet = {"progress": False, "out": lambda _: None}
    sync(out, s3, bucket, section_map, cloudfront=cloudfront, distribution_id=dist, **quiet)
    before = invalidated_paths(cloudfront, dist)

    sync(out, s3, bucket, section_map, cloudfront=cloudfront, distribution_id=dist, **quiet)
    assert invalidated_paths(cloudfront, dist) == before  # nothing changed: no batch

    photo = next(k for k in files if "/fotos/" in k)
    page = next(k for k in files if k.endswith("index.html") and k.startswith("school/"))
    (out / photo).unlink()
    (out / page).write_bytes(b"<p>nieuw</p>")
    moto.calls.clear()
    sync(out, s3, bucket, section_map, cloudfront=cloudfront, distribution_id=dist, **quiet)
    calls = [(name, params.get("Key")) for name, params in moto.calls]
    after = invalidated_paths(cloudfront, dist)
    new = [paths for ident, paths in after.items() if ident not in before]
    # the withdrawn photo alone, at once; then the changed page after its upload
    assert sorted(new) == sorted([["/" + photo], ["/" + page]])
    first = calls.index(("CreateInvalidation", None))
    assert calls[first - 1][0] == "DeleteObjects"
    assert first < calls.index(("PutObject", page)) < len(calls) - 1
    assert calls[-1] == ("CreateInvalidation", None)
