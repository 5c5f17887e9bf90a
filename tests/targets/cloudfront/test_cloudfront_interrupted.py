"""A publish killed with SIGKILL at each step never leaves a withdrawn photo in the edge cache.

A real publish (publish_cloudfront in its own process, as `invoke publish`
runs it) talks to the moto server through a proxy that kills it at a chosen
request. The re-run must invalidate the withdrawn photos' paths even though
the bucket no longer holds them, and a second re-run must change nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cf_helpers import REGION, bucket_state, distribution, invalidated_paths, make_tree, output_state
from kill_proxy import KillAt, KillProxy

from publish.targets.cloudfront.journal import FILE_NAME, covers

ROOT = Path(__file__).resolve().parents[3]
PUBLISH = """
import sys
from pathlib import Path
from plugins.roster import load_roster
from plugins.sections import build_section_map
from publish.targets.cloudfront import publish_cloudfront
sections = build_section_map(load_roster("roster"), "Kc de Matrix")
publish_cloudfront(sys.argv[1], sections, None)
"""
WRITES = {"PutObject", "DeleteObjects", "CreateInvalidation"}


@pytest.fixture
def proxy(moto):
    running = KillProxy(moto.port)
    yield running
    running.close()


def run_publish(proxy: KillProxy, env: dict, out, kill: KillAt | None = None):
    """One publish in a fresh process through the proxy; returns (returncode, output)."""
    proc = subprocess.Popen([sys.executable, "-c", PUBLISH, str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    proxy.arm(kill, proc.pid)
    output, _ = proc.communicate(timeout=120)
    return proc.returncode, output


def covered(paths: list[str], invalidations: dict[str, list[str]]) -> set[str]:
    sent = [p for batch in invalidations.values() for p in batch]
    return {p for p in paths if any(covers(s, p) for s in sent)}


KILL_POINTS = {
    "after-the-privacy-delete": KillAt("DeleteObjects", 1, after=True),
    "before-the-first-invalidation": KillAt("CreateInvalidation", 1),
    "first-invalidation-accepted-unheard": KillAt("CreateInvalidation", 1, after=True),
    "mid-upload-at-the-third-put": KillAt("PutObject", 3),
    "before-the-final-invalidation": KillAt("CreateInvalidation", 2),
}


@pytest.mark.parametrize("kill", KILL_POINTS.values(), ids=KILL_POINTS.keys())
def test_a_killed_publish_is_finished_by_the_next_one(tmp_path, moto, bucket, section_map,
                                                      proxy, kill):
    s3, cloudfront = moto.client(log=False), moto.client("cloudfront", log=False)
    dist = distribution(cloudfront, bucket)
    private = tmp_path / "private"
    env = {**os.environ, "AWS_ENDPOINT_URL": proxy.url, "AWS_REGION": REGION,
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "SCHOOLPLEIN_S3_BUCKET": bucket, "CLOUDFRONT_DISTRIBUTION_ID": dist,
           "SCHOOLPLEIN_PRIVATE": str(private)}
    out = tmp_path / "output"
    files = make_tree(out, section_map)
    assert run_publish(proxy, env, out)[0] == 0

    # Consent withdrawn for two photos; pages change; a new post with a photo.
    withdrawn = sorted(k for k in files if k.startswith("groep/") and "/fotos/" in k)[:2]
    files = make_tree(out, section_map, marker="v2")
    for key in withdrawn:
        (out / key).unlink()
    (out / "school/fotos/0123456789abcdef0123-1600.jpg").write_bytes(b"new photo" * 50)
    withdrawn_paths = ["/" + k for k in withdrawn]

    code, output = run_publish(proxy, env, out, kill)
    assert proxy.killed.is_set() and code == -9, output
    first_batch_unsent = (kill.operation == "DeleteObjects"
                          or (kill.operation, kill.nth, kill.after) == ("CreateInvalidation", 1, False))
    if first_batch_unsent:  # the bug: gone from the bucket, so a plain re-run saw no difference
        assert not set(withdrawn) & set(bucket_state(s3, bucket))
        assert not covered(withdrawn_paths, invalidated_paths(cloudfront, dist))
        journal = json.loads((private / FILE_NAME).read_text(encoding="utf-8"))
        assert set(withdrawn_paths) <= {e["path"] for e in journal["wachtend"]}

    code, output = run_publish(proxy, env, out)
    assert code == 0, output
    assert covered(withdrawn_paths, invalidated_paths(cloudfront, dist)) == set(withdrawn_paths)
    assert bucket_state(s3, bucket) == output_state(out)
    journal = json.loads((private / FILE_NAME).read_text(encoding="utf-8"))
    assert journal["wachtend"] == []
    changed_page = "/school/index.html"  # overwritten after the kill or before it: invalidated
    assert covered([changed_page], invalidated_paths(cloudfront, dist))

    before = invalidated_paths(cloudfront, dist)
    code, output = run_publish(proxy, env, out)
    assert code == 0, output
    assert not WRITES & set(proxy.seen), proxy.seen  # a no-op: no write, no invalidation
    assert invalidated_paths(cloudfront, dist) == before


def test_the_publish_reports_the_privacy_delete_and_its_accepted_invalidation(
        tmp_path, moto, bucket, section_map, proxy):
    cloudfront = moto.client("cloudfront", log=False)
    dist = distribution(cloudfront, bucket)
    env = {**os.environ, "AWS_ENDPOINT_URL": proxy.url, "AWS_REGION": REGION,
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "SCHOOLPLEIN_S3_BUCKET": bucket, "CLOUDFRONT_DISTRIBUTION_ID": dist,
           "SCHOOLPLEIN_PRIVATE": str(tmp_path / "private")}
    out = tmp_path / "output"
    files = make_tree(out, section_map)
    assert run_publish(proxy, env, out)[0] == 0
    photo = next(k for k in files if "/fotos/" in k)
    (out / photo).unlink()
    code, output = run_publish(proxy, env, out)
    assert code == 0, output
    [first] = [i for i, paths in invalidated_paths(cloudfront, dist).items() if paths == ["/" + photo]]
    assert f"Ingetrokken foto's verwijderd: 1 bestand(en).\n  {photo}" in output
    assert f"aangenomen (id {first})" in output
    assert output.index("aangenomen") < output.index("Gepubliceerd")


def test_a_dry_run_shows_what_an_interrupted_publish_left(tmp_path, moto, bucket, section_map,
                                                          capsys):
    from publish.targets.cloudfront import publish_cloudfront
    from publish.targets.cloudfront.journal import InvalidationJournal
    from publish.targets.cloudfront.settings import CloudFrontSettings

    cloudfront = moto.client("cloudfront", log=False)
    dist = distribution(cloudfront, bucket)
    settings = CloudFrontSettings.from_env({
        "SCHOOLPLEIN_S3_BUCKET": bucket, "AWS_ENDPOINT_URL": moto.url,
        "CLOUDFRONT_DISTRIBUTION_ID": dist, "SCHOOLPLEIN_PRIVATE": str(tmp_path / "private")})
    out = tmp_path / "output"
    make_tree(out, section_map, groups=0)
    publish_cloudfront(out, section_map, settings, s3=moto.client(), cloudfront=cloudfront)
    journal = InvalidationJournal.in_folder(tmp_path / "private")
    journal.record(["/groep/groep-3/fotos/0123456789abcdef0123-1600.jpg"], "ingetrokken foto")
    capsys.readouterr()

    plan = publish_cloudfront(out, section_map, settings, dry_run=True, s3=moto.client())
    text = capsys.readouterr().out
    assert "onderbroken publicatie (journaal): 1 pad(en)" in text
    assert "/groep/groep-3/fotos/0123456789abcdef0123-1600.jpg" in text
    assert plan.first_invalidations == ("/groep/groep-3/fotos/0123456789abcdef0123-1600.jpg",)
    assert len(journal.pending()) == 1 and invalidated_paths(cloudfront, dist) == {}

    publish_cloudfront(out, section_map, settings, s3=moto.client(), cloudfront=cloudfront)
    assert journal.pending() == ()
    assert list(invalidated_paths(cloudfront, dist).values()) == [
        ["/groep/groep-3/fotos/0123456789abcdef0123-1600.jpg"]]
