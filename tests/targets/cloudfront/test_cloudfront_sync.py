"""S3 sync against a moto server over HTTP: content-based, minimal writes, stale deletes."""

from __future__ import annotations

import shutil

from cf_helpers import bucket_state, make_tree, output_state

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


def test_headers(moto, bucket, tmp_path, section_map):
    out = tmp_path / "output"
    files = make_tree(out, section_map)
    s3 = moto.client()
    publish(moto, s3, bucket, out, section_map)
    photo = next(k for k in files if k.endswith(".jpg"))
    expect = {
        "index.html": ("text/html; charset=utf-8", "no-cache"),
        "school/feed.atom": ("application/atom+xml; charset=utf-8", "no-cache"),
        "robots.txt": ("text/plain; charset=utf-8", "no-cache"),
        "theme/css/main.3f2a9c1d.css": ("text/css; charset=utf-8",
                                        "public, max-age=31536000, immutable"),
        "theme/js/site.js": ("text/javascript; charset=utf-8", "no-cache"),
        photo: ("image/jpeg", "public, max-age=31536000, immutable"),
    }
    for key, (ctype, cache) in expect.items():
        head = s3.head_object(Bucket=bucket, Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (ctype, cache), key
        assert head["Metadata"]["sha256"]


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
