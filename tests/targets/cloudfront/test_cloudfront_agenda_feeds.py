"""Calendar feeds on S3 + CloudFront: a phone's calendar app fetches them without a cookie.

The bucket is a moto server over HTTP, the viewer-request function runs in node
and the distribution's cache behaviours come from the CloudFormation template.
"""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path

import pytest
from cf_helpers import load_template, run_viewer_function
from icalendar import Calendar

from plugins.calendar_feeds import FeedAddress, address_file, encode_addresses, new_token
from plugins.site import build
from publish.targets.cloudfront.provision import TEMPLATE
from publish.targets.cloudfront.sync import sync

ROOT = Path(__file__).resolve().parents[3]
FAMILY_OF = "ouder-001"  # children in groep 3 and groep 5/6


class FeedBuild:
    """The demo's agendas and one post per section, built with a family's calendar address."""

    def __init__(self, tmp: Path):
        self.tmp, self.private, self.builds = tmp, tmp / "private", 0
        self.content = tmp / "content"
        for agenda in (ROOT / "content").rglob("agenda.txt"):
            target = self.content / agenda.relative_to(ROOT / "content")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(agenda, target)
        (self.content / "school" / "2026-12-01-nieuws.md").write_text(
            "Title: Nieuws\nDate: 2026-12-01 10:00\n\nTekst.\n")

    def build(self, addresses: dict[str, FeedAddress]) -> Path:
        path = address_file(self.private)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode_addresses(addresses))
        self.builds += 1
        out = self.tmp / f"out-{self.builds}"
        built = build(output_path=str(out), path=str(self.content),
                      photo_cache_dir=str(self.tmp / "cache"),
                      photo_audit_dir=str(self.tmp / "audit"),
                      schoolplein_private=str(self.private), schoolplein_today="2026-12-07")
        self.sections = built["SCHOOLPLEIN_SECTIONS"]
        return out


def _uids(data: bytes) -> set[str]:
    return {str(e["UID"]) for e in Calendar.from_ical(data).walk("VEVENT")}


class Invalidations:
    def __init__(self):
        self.paths: list[str] = []

    def create_invalidation(self, **kw):
        self.paths += kw["InvalidationBatch"]["Paths"]["Items"]
        return {"Invalidation": {"Id": f"I{len(self.paths)}"}}


@pytest.fixture
def feeds(tmp_path, roster):
    found = FeedBuild(tmp_path)
    found.family = roster.parents[FAMILY_OF].family
    found.address = FeedAddress(new_token(), frozenset(roster.families[found.family].parents), "")
    return found


def test_the_feed_is_in_the_bucket_as_a_calendar_and_needs_no_cookie(feeds, moto, bucket):
    out = feeds.build({feeds.family: feeds.address})
    s3 = moto.client()
    sync(out, s3, bucket, feeds.sections, progress=False, out=lambda _: None)
    key = f"agenda/{feeds.address.token}/agenda.ics"
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "text/calendar; charset=utf-8"
    assert head["CacheControl"] == "private, no-store"  # a renewed address stops at once
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    expected = set()
    for folder in ("school", "groep/groep-3", "groep/groep-5-6"):
        expected |= _uids((out / folder / "agenda.ics").read_bytes())
    assert _uids(body) == expected and len(expected) > 8
    assert not [k for k in (s["Key"] for s in s3.list_objects_v2(Bucket=bucket)["Contents"])
                if feeds.address.token in k and k != key]  # nothing else names the address

    # the calendar app sends no cookie: the viewer function lets the address through as it is,
    path = f"/{key}"
    (result,) = run_viewer_function([{"uri": path}])
    assert result["result"].get("uri") == path and "statusCode" not in result["result"]
    # and no behaviour with a trusted key group (signed cookies) covers it
    dist = load_template(TEMPLATE)["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    signed = [b["PathPattern"] for b in dist["CacheBehaviors"] if b.get("TrustedKeyGroups")]
    assert signed and not [p for p in signed if fnmatch.fnmatchcase(path, p)]
    assert [p for p in signed if fnmatch.fnmatchcase("/school/agenda.ics", p)]  # a section's own


def test_a_renewed_address_is_deleted_from_the_bucket_and_invalidated(feeds, moto, bucket):
    s3 = moto.client()
    sync(feeds.build({feeds.family: feeds.address}), s3, bucket, feeds.sections,
         progress=False, out=lambda _: None)
    old = f"agenda/{feeds.address.token}/agenda.ics"
    renewed = FeedAddress(new_token(), feeds.address.known_to, "")
    cloudfront = Invalidations()
    sync(feeds.build({feeds.family: renewed}), s3, bucket, feeds.sections, progress=False,
         out=lambda _: None, cloudfront=cloudfront, distribution_id="E1")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert old not in keys and f"agenda/{renewed.token}/agenda.ics" in keys
    assert not [k for k in keys if k.startswith(f"agenda/{feeds.address.token}")]
    assert f"/{old}" in cloudfront.paths or "/*" in cloudfront.paths
