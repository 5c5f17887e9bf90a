"""A publish after one new post neither lists the bucket nor reads unchanged files again,
and the bucket still ends up as the output: the record of the last complete publish
(private/cloudfront-bucket.json) stands in for the listing only while it is true."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from cf_helpers import bucket_state, cf_settings, make_tree, output_state

from publish.targets.cloudfront import publish_cloudfront
from publish.targets.cloudfront import sync as sync_module
from publish.targets.cloudfront.manifest import BucketManifest


def _publish(moto, bucket, out, section_map, settings):
    import dataclasses

    moto.calls.clear()
    return publish_cloudfront(out, section_map, dataclasses.replace(settings, bucket=bucket),
                              s3=moto.client())


def _lists(moto) -> int:
    return sum(1 for name, _ in moto.calls if name.startswith("ListObjects"))


def test_one_new_post_is_sent_without_listing_or_rereading_the_rest(
        moto, bucket, tmp_path, section_map, monkeypatch):
    out = tmp_path / "output"
    make_tree(out, section_map)
    settings = cf_settings(tmp_path)
    _publish(moto, bucket, out, section_map, settings)
    assert _lists(moto) == 1  # nothing known yet: the bucket is listed
    post = out / "school" / "2027-03-01-nieuw" / "index.html"
    post.parent.mkdir(parents=True)
    post.write_bytes(b"<!doctype html>nieuw")
    read = []
    real = type(post).read_bytes
    monkeypatch.setattr(type(post), "read_bytes", lambda p: (read.append(p.name), real(p))[1])
    plan = _publish(moto, bucket, out, section_map, settings)
    monkeypatch.undo()
    assert _lists(moto) == 0
    assert plan.uploads == ("school/2027-03-01-nieuw/index.html",)
    assert read == ["index.html"]  # only the new page was read and hashed
    assert bucket_state(moto.client(log=False), bucket) == output_state(out)


def test_a_withdrawn_photo_is_deleted_when_the_bucket_is_known_from_the_record(
        moto, bucket, tmp_path, section_map):
    out = tmp_path / "output"
    files = make_tree(out, section_map)
    settings = cf_settings(tmp_path)
    _publish(moto, bucket, out, section_map, settings)
    photo = sorted(k for k in files if "/fotos/" in k)[0]
    (out / photo).unlink()
    plan = _publish(moto, bucket, out, section_map, settings)
    assert _lists(moto) == 0 and plan.privacy_deletes == (photo,)
    assert photo not in bucket_state(moto.client(log=False), bucket)


def test_after_an_interrupted_publish_the_bucket_is_listed_again(
        moto, bucket, tmp_path, section_map, monkeypatch):
    out = tmp_path / "output"
    make_tree(out, section_map)
    settings = cf_settings(tmp_path)
    _publish(moto, bucket, out, section_map, settings)
    make_tree(out, section_map, marker="v2")  # every page anew

    def stop(*_a, **_k):
        raise OSError("afgebroken")

    monkeypatch.setattr(sync_module, "_upload", stop)
    with pytest.raises(sync_module.PublishError):
        _publish(moto, bucket, out, section_map, settings)
    monkeypatch.undo()
    assert BucketManifest.in_folder(settings.private_dir).objects(bucket) is None
    # the bucket changed by hand as well: only a listing knows
    moto.client(log=False).delete_object(Bucket=bucket, Key="robots.txt")
    _publish(moto, bucket, out, section_map, settings)
    assert _lists(moto) == 1
    assert bucket_state(moto.client(log=False), bucket) == output_state(out)


def test_a_record_older_than_a_day_or_of_another_bucket_is_not_trusted(tmp_path):
    manifest = BucketManifest(tmp_path / "m.json")
    manifest.record("school", {"index.html": [1, 2, 3, 4, "md5", "sha"]}, listed=True)
    again = BucketManifest(tmp_path / "m.json")
    assert again.objects("school") == {"index.html": (3, "md5", "sha")}
    assert again.objects("andere-bucket") is None
    assert again.objects("school", now=again.listed_at + 25 * 3600) is None
    assert again.objects("school", now=again.listed_at - 60) is None  # the clock went back


def test_the_bucket_is_listed_a_day_after_the_last_listing_even_when_publishing_daily(
        moto, bucket, tmp_path, section_map, monkeypatch):
    """A publish that trusted the record must not make it young again: an object the
    record does not know (a restored backup of private/, a second machine, a change by
    hand) is found and deleted by the listing at the latest a day later."""
    from publish.targets.cloudfront import manifest as manifest_module

    out = tmp_path / "output"
    files = make_tree(out, section_map)
    settings = cf_settings(tmp_path)
    start = manifest_module.time.time()
    _publish(moto, bucket, out, section_map, settings)  # listed
    stray = sorted(k for k in files if "/fotos/" in k)[0].replace(".", "-oud.", 1)
    moto.client(log=False).put_object(Bucket=bucket, Key=stray, Body=b"een oude foto")
    for hours in (12, 23):  # daily publishes from the record
        monkeypatch.setattr(manifest_module, "time", SimpleNamespace(
            time=lambda h=hours: start + h * 3600))
        _publish(moto, bucket, out, section_map, settings)
        assert _lists(moto) == 0
    assert stray in bucket_state(moto.client(log=False), bucket)
    monkeypatch.setattr(manifest_module, "time", SimpleNamespace(time=lambda: start + 25 * 3600))
    _publish(moto, bucket, out, section_map, settings)
    assert _lists(moto) == 1
    assert bucket_state(moto.client(log=False), bucket) == output_state(out)
