"""S3 sync against a moto server over HTTP: content-based, minimal writes, stale deletes."""

from __future__ import annotations

import hashlib
import shutil

from cf_helpers import bucket_state, make_tree, output_state

from publish import headers
from publish.targets.cloudfront import objects
from publish.targets.cloudfront import sync as s3sync
from publish.targets.cloudfront.sync import sync


def publish(moto, s3, bucket, out, section_map, **kw):
    moto.calls.clear()
    return sync(out, s3, bucket, section_map, progress=False, out=lambda _: None, **kw)


def test_first_publish_uploads_all_then_nothing(moto, bucket, tmp_path, section_map):
    out = tmp_path / "output"
    files = make_tree(out, section_map)
    s3 = moto.client()
    plan = publish(moto, s3, bucket, out, section_map)
    assert set(plan.uploads) == set(files)
    assert bucket_state(s3, bucket) == output_state(out)

    make_tree(out, section_map)  # clean rebuild: new mtimes, same content
    plan = publish(moto, s3, bucket, out, section_map)
    assert plan.is_empty
    assert moto.writes() == []


def test_every_object_carries_the_headers_publish_headers_gives(moto, bucket, tmp_path,
                                                                 section_map):
    """Read back from the bucket: what S3 stores is what CloudFront sends the browser, and it
    is publish.headers' one definition (the same the nginx and Apache tests hold)."""
    out = tmp_path / "output"
    files = make_tree(out, section_map)
    s3 = moto.client()
    publish(moto, s3, bucket, out, section_map)
    seen = set()
    for key in files:
        head = s3.head_object(Bucket=bucket, Key=key)
        assert head["CacheControl"] == headers.cache_control(key), key
        assert head["Metadata"]["sha256"]
        seen.add(head["CacheControl"])
    assert seen == {headers.CACHE_PHOTO, headers.CACHE_PROTECTED_PAGE, headers.CACHE_PAGE}
    photo = next(k for k in files if k.startswith("groep/") and k.endswith(".jpg"))
    expect = {
        "index.html": ("text/html; charset=utf-8", headers.CACHE_PAGE),
        "school/feed.atom": ("application/atom+xml; charset=utf-8",
                             headers.CACHE_PROTECTED_PAGE),
        "school/index.html": ("text/html; charset=utf-8", headers.CACHE_PROTECTED_PAGE),
        "robots.txt": ("text/plain; charset=utf-8", headers.CACHE_PAGE),
        "theme/css/main.3f2a9c1d.css": ("text/css; charset=utf-8", headers.CACHE_PAGE),
        "theme/js/site.js": ("text/javascript; charset=utf-8", headers.CACHE_PAGE),
        photo: ("image/jpeg", headers.CACHE_PHOTO),
    }
    for key, (ctype, cache) in expect.items():
        head = s3.head_object(Bucket=bucket, Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (ctype, cache), key
    assert headers.CACHE_PROTECTED_PAGE.startswith("private") and "no-store" in (
        headers.CACHE_PROTECTED_PAGE)
    assert headers.CACHE_PHOTO.startswith("private")


def test_objects_published_with_older_header_rules_get_todays(moto, bucket, tmp_path,
                                                              section_map):
    """A bucket published before (photos 'public', pages 'no-cache'): the next publish copies
    every unchanged object onto itself with today's headers (no upload) and invalidates /*,
    once; then an unchanged publish writes nothing again."""
    out = tmp_path / "output"
    files = make_tree(out, section_map)
    s3 = moto.client()
    for key, data in files.items():  # as the old code uploaded them
        s3.put_object(Bucket=bucket, Key=key, Body=data, CacheControl="public, max-age=31536000",
                      ContentType="application/octet-stream",
                      Metadata={"sha256": hashlib.sha256(data).hexdigest()})
    stamp = tmp_path / "private" / "cloudfront-headers.json"
    plan = publish(moto, s3, bucket, out, section_map, stamp=stamp, dry_run=True)
    assert set(plan.restamps) == set(files) and plan.uploads == () and moto.writes() == []
    plan = publish(moto, s3, bucket, out, section_map, stamp=stamp)
    assert {name for name, _ in moto.writes()} == {"CopyObject"}
    assert plan.invalidations == ("/*",)  # the edge keeps what it cached with the old headers
    for key in files:
        head = s3.head_object(Bucket=bucket, Key=key)
        assert (head["CacheControl"], head["ContentType"]) == (
            headers.cache_control(key), objects.content_type(key)), key
    assert bucket_state(s3, bucket) == output_state(out)  # same bytes
    assert publish(moto, s3, bucket, out, section_map, stamp=stamp).is_empty
    assert moto.writes() == []


def test_consent_change_and_removed_post(moto, bucket, tmp_path, section_map):
    out = tmp_path / "output"
    files = make_tree(out, section_map)
    s3 = moto.client()
    publish(moto, s3, bucket, out, section_map)

    revoked = sorted(k for k in files if k.startswith("groep/") and "/fotos/" in k)[:2]
    for key in revoked:
        (out / key).unlink()
    page = next(k for k in files if k.startswith("groep/") and k.endswith("uitje/index.html"))
    (out / page).write_bytes(b"<!doctype html><title>zonder foto</title>")
    plan = publish(moto, s3, bucket, out, section_map)
    assert set(plan.privacy_deletes) == set(revoked)
    assert plan.uploads == (page,)
    writes = [name for name, _ in moto.writes()]
    assert writes == ["DeleteObjects", "PutObject"]  # privacy delete first, then the page
    assert not set(revoked) & set(bucket_state(s3, bucket))
    assert bucket_state(s3, bucket) == output_state(out)

    post = page.rsplit("/", 2)[0] + "/"
    shutil.rmtree(out / post)
    publish(moto, s3, bucket, out, section_map)
    assert not [k for k in bucket_state(s3, bucket) if k.startswith(post)]
    assert bucket_state(s3, bucket) == output_state(out)


def test_dry_run_changes_nothing(moto, bucket, tmp_path, section_map):
    out = tmp_path / "output"
    files = make_tree(out, section_map)
    s3 = moto.client()
    printed: list[str] = []
    moto.calls.clear()
    plan = sync(out, s3, bucket, section_map, dry_run=True, out=printed.append)
    assert len(plan.uploads) == len(files)
    assert moto.writes() == []
    assert bucket_state(s3, bucket) == {}
    assert "Proefrun" in printed[0] and "Te uploaden: " in printed[0]


def test_multipart_object_compared_by_sha256_metadata(moto, bucket, tmp_path, section_map,
                                                      monkeypatch):
    monkeypatch.setattr(s3sync, "MULTIPART_THRESHOLD", 5 * 1024 * 1024)
    out = tmp_path / "output"
    make_tree(out, section_map, groups=0)
    (out / "school/fotos").mkdir(parents=True, exist_ok=True)
    (out / "school/fotos/b16b16b16b16b16b16b1-1600.jpg").write_bytes(b"x" * (6 * 1024 * 1024))
    s3 = moto.client()
    publish(moto, s3, bucket, out, section_map)
    assert "-" in s3.head_object(Bucket=bucket, Key="school/fotos/b16b16b16b16b16b16b1-1600.jpg")["ETag"]
    publish(moto, s3, bucket, out, section_map)
    assert moto.writes() == []


def test_invalidation_batch_is_sent(moto, bucket, tmp_path, section_map):
    out = tmp_path / "output"
    make_tree(out, section_map)
    s3 = moto.client()
    publish(moto, s3, bucket, out, section_map)
    make_tree(out, section_map, marker="v2")

    class FakeCloudFront:
        batches: list = []

        def create_invalidation(self, **kw):
            self.batches.append(kw)

    cloudfront = FakeCloudFront()
    publish(moto, s3, bucket, out, section_map, cloudfront=cloudfront, distribution_id="E1")
    (batch,) = cloudfront.batches
    paths = batch["InvalidationBatch"]["Paths"]["Items"]
    assert "/school/index.html" in paths and "/school/feed.atom" in paths
    assert batch["InvalidationBatch"]["Paths"]["Quantity"] == len(paths)


def test_publish_cloudfront_entry_point(moto, bucket, tmp_path, section_map, capsys):
    from publish.targets.cloudfront import publish_cloudfront
    from publish.targets.cloudfront.settings import CloudFrontSettings

    out = tmp_path / "output"
    files = make_tree(out, section_map)
    settings = CloudFrontSettings.from_env({"SCHOOLPLEIN_S3_BUCKET": bucket,
                                            "AWS_ENDPOINT_URL": moto.url})
    plan = publish_cloudfront(out, section_map, settings, dry_run=True, s3=moto.client())
    assert len(plan.uploads) == len(files) and "Proefrun" in capsys.readouterr().out
    assert bucket_state(moto.client(), bucket) == {}
    publish_cloudfront(out, section_map, settings, s3=moto.client())
    assert bucket_state(moto.client(), bucket) == output_state(out)
    assert "Gepubliceerd" in capsys.readouterr().out


def test_publish_cloudfront_reads_env_when_settings_is_none(moto, bucket, tmp_path,
                                                            section_map, monkeypatch):
    from publish.targets.cloudfront import publish_cloudfront

    out = tmp_path / "output"
    make_tree(out, section_map, groups=0)
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("SCHOOLPLEIN_S3_BUCKET", bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("CLOUDFRONT_DISTRIBUTION_ID", raising=False)
    publish_cloudfront(out, section_map, None, False)
    assert bucket_state(moto.client(), bucket) == output_state(out)
