"""Invalidations reach CloudFront (moto's server): changed pages and revoked photos only."""

from __future__ import annotations

import uuid

from cf_helpers import make_tree, write_tree

from publish.s3sync import sync


def distribution(cloudfront, bucket: str) -> str:
    origin = f"{bucket}.s3.amazonaws.com"
    config = {
        "CallerReference": uuid.uuid4().hex, "Comment": "schoolplein test", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "site", "DomainName": origin,
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "https-only",
                                 "MinTTL": 0, "ForwardedValues": {"QueryString": False,
                                                                 "Cookies": {"Forward": "none"}}},
    }
    return cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def invalidated_paths(cloudfront, dist: str) -> dict[str, list[str]]:
    """Invalidation id -> its paths."""
    items = cloudfront.list_invalidations(DistributionId=dist)["InvalidationList"].get("Items", [])
    return {i["Id"]: cloudfront.get_invalidation(DistributionId=dist, Id=i["Id"])["Invalidation"]
            ["InvalidationBatch"]["Paths"].get("Items", []) for i in items}


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
    write_tree(out, {page: b"<p>nieuw</p>"})
    sync(out, s3, bucket, section_map, cloudfront=cloudfront, distribution_id=dist, **quiet)
    after = invalidated_paths(cloudfront, dist)
    new = [paths for ident, paths in after.items() if ident not in before]
    assert len(new) == 1  # one batch per publish
    assert "/" + photo in new[0] and "/" + page in new[0]
