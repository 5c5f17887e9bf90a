"""Upload by allow-list: only the kinds of file the build writes reach the bucket."""

from __future__ import annotations

import os

import pytest
from cf_helpers import bucket_state, make_tree

from publish.targets.cloudfront.sync import PublishError, sync
from publish.targets.cloudfront.uploads import is_uploadable

FOREIGN = [".env.local", "prod.env", "id_rsa", "school/key.pem.bak", "groep/groep-3/htpasswd",
           "school/.htpasswd", ".git/config", "theme/css/.DS_Store", "roster.csv", "notes.txt",
           "school/index.html.orig", "gezin/68amruh9btpfys3dk9wr/brief.pdf"]


def publish(moto, bucket, out, section_map):
    moto.calls.clear()
    return sync(out, moto.client(), bucket, section_map, progress=False, out=lambda _: None)


@pytest.mark.parametrize("name", FOREIGN)
def test_a_file_the_build_does_not_write_stops_the_publish(moto, bucket, tmp_path, section_map,
                                                          name):
    out = tmp_path / "output"
    make_tree(out, section_map, groups=1)
    (out / name).parent.mkdir(parents=True, exist_ok=True)
    (out / name).write_text("geheim")
    with pytest.raises(PublishError) as failure:
        publish(moto, bucket, out, section_map)
    (problem,) = failure.value.problems
    assert problem.file == str(out / (".git" if name.startswith(".git/") else name))
    assert "er is nog niets gepubliceerd" in problem.message
    assert moto.writes() == [] and bucket_state(moto.client(), bucket) == {}


def test_a_symlink_to_the_private_key_is_refused_whatever_its_name(moto, bucket, tmp_path,
                                                                   section_map):
    out = tmp_path / "output"
    files = make_tree(out, section_map, groups=1)
    key = tmp_path / "private" / "cloudfront-private-key.pem"
    key.parent.mkdir()
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    photo = next(k for k in files if "/fotos/" in k)
    disguised = photo.replace("-1600.jpg", "-480.jpg")  # a perfectly allowed name
    os.symlink(key, out / disguised)
    os.symlink(key.parent, out / "school" / "fotos" / "map")
    with pytest.raises(PublishError) as failure:
        publish(moto, bucket, out, section_map)
    refused = {p.file: p.message for p in failure.value.problems}
    assert set(refused) == {str(out / disguised), str(out / "school/fotos/map")}
    assert all("snelkoppeling (symlink)" in m for m in refused.values())
    assert moto.writes() == []


def test_every_foreign_file_is_named_at_once_in_dutch(tmp_path, section_map):
    from publish.targets.cloudfront.sync import scan_output

    out = tmp_path / "output"
    make_tree(out, section_map, groups=1)
    for name in ("prod.env", "id_rsa", ".env.local"):
        (out / name).write_text("x")
    with pytest.raises(PublishError) as failure:
        scan_output(out)
    text = failure.value.render()
    for name in ("prod.env", "id_rsa", ".env.local"):
        assert str(out / name) in text
    assert "verborgen bestand" in text and "dit soort bestand schrijft de build niet" in text
    assert "geheimen horen in .env of private/" in text


def test_the_demo_build_is_uploadable_as_it_is(demo_build):
    from publish.targets.cloudfront.sync import scan_output

    keys = set(scan_output(demo_build[0]))
    assert {"index.html", "robots.txt", "uitloggen/uitloggen.js", "theme/css/site.css",
            "403.html"} <= keys  # (login.js: only in a build for CloudFront)
    assert any("/fotos/" in k for k in keys) and any(k.endswith("feed.atom") for k in keys)


@pytest.mark.parametrize(("key", "ok"), [
    ("index.html", True), ("404.html", True), ("hulp/index.html", True),
    ("groep/groep-3/pagina/2/index.html", True), ("school/feed.atom", True),
    ("theme/css/site.css", True), ("theme/css/main.3f2a9c1d.css", True), ("robots.txt", True),
    ("login/login.js", True), ("groep/groep-3/fotos/0d797dae47ea355df054-1600.jpg", True),
    ("school/fotos/0d797dae47ea355df054-480.webp", True),
    ("gezin/68amruh9btpfys3dk9wr/fotos/0d797dae47ea355df054-480.webp", True),
    ("fotos/0d797dae47ea355df054-480.webp", False),  # no photos in the public part
    ("school/x/fotos/0d797dae47ea355df054-480.webp", False),
    ("groep/groep-3/fotos/origineel.jpg", False), ("groep/groep-3/fotos/a-1600.png", False),
    ("login/other.js", False), ("theme/id_rsa", False), ("theme/key.pem", False),
    ("school/post.html", False), ("secret.json", False), ("school/index.htm", False),
    ("robots.txt.bak", False), ("school/feed.xml", False),
    ("school/agenda.ics", True), ("groep/groep-3/agenda.json", True),
    ("agenda/0y8xb5rdzq0m42tqydzw0zlcebnsdtrg/agenda.ics", True), ("agenda.ics", False),
    ("school/agenda.txt", False), ("school/agenda.csv", False),
])
def test_kinds(key, ok):
    assert is_uploadable(key) is ok


def test_calendars_are_sent_as_calendars_and_never_kept_by_shared_caches():
    from publish.headers import cache_control
    from publish.targets.cloudfront.objects import content_type

    key = "agenda/0y8xb5rdzq0m42tqydzw0zlcebnsdtrg/agenda.ics"
    assert content_type(key) == "text/calendar; charset=utf-8"
    assert cache_control(key) == cache_control("school/agenda.ics") == "private, no-store"
