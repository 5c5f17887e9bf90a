"""The sync plan is a pure function: order, privacy deletes, invalidation collapsing."""

from __future__ import annotations

from publish.targets.cloudfront.objects import content_type
from publish.targets.cloudfront.sync import LocalFile, RemoteObject, is_unchanged, plan_sync


def local(key: str, md5: str = "a" * 32, sha: str = "s" * 64, size: int = 10) -> LocalFile:
    return LocalFile(key, None, size, md5, sha)  # type: ignore[arg-type]


def remote(key: str, etag: str = "a" * 32, size: int = 10, sha: str | None = None):
    return RemoteObject(key, size, etag, sha)


def test_order_privacy_first_pages_last(section_map):
    files = {k: local(k) for k in ["groep/groep-3/index.html", "groep/groep-3/fotos/n-1600.jpg",
                                   "theme/css/main.css", "school/post/index.html"]}
    old = {"groep/groep-3/fotos/old-1600.jpg": remote("groep/groep-3/fotos/old-1600.jpg"),
           "school/oud/index.html": remote("school/oud/index.html"),
           "gezin/x/fotos/gone.webp": remote("gezin/x/fotos/gone.webp")}
    plan = plan_sync(files, old, section_map, privacy_dropped={"school/oud/index.html"})
    actions = [a for a, _ in plan.steps()]
    assert actions == sorted(actions, key=["privacy-delete", "invalidate-first", "upload",
                                           "delete", "invalidate"].index)
    assert set(plan.privacy_deletes) == {"groep/groep-3/fotos/old-1600.jpg",
                                         "gezin/x/fotos/gone.webp", "school/oud/index.html"}
    # withdrawn objects leave the edge at once, by exactly their own paths
    assert plan.first_invalidations == tuple(sorted("/" + k for k in plan.privacy_deletes))
    assert not set(plan.first_invalidations) & set(plan.invalidations)
    assert plan.uploads[0].endswith(".jpg") and plan.uploads[1] == "theme/css/main.css"
    assert all(k.endswith(".html") for k in plan.uploads[2:])


def test_unchanged_by_md5_or_sha256():
    assert is_unchanged(local("a"), remote("a"))
    assert not is_unchanged(local("a"), remote("a", etag="b" * 32))
    assert not is_unchanged(local("a"), remote("a", etag="x-3"))
    assert is_unchanged(local("a"), remote("a", etag="x-3", sha="s" * 64))


def test_invalidations_collapse(section_map):
    keys = [f"groep/groep-3/post-{n}/index.html" for n in range(20)] + ["school/index.html"]
    plan = plan_sync({}, {k: remote(k) for k in keys}, section_map)
    assert plan.invalidations == ("/groep/groep-3/*", "/school/index.html")
    many = [f"school/p{n}/index.html" for n in range(3)]
    many += [f"gezin/{s.key}/p{n}/index.html" for s in section_map.protected
             if s.kind == "family" for n in range(1)]
    plan = plan_sync({}, {k: remote(k) for k in many}, section_map)
    assert "/school/p0/index.html" in plan.invalidations


def test_invalidation_everything(section_map, monkeypatch):
    from publish.targets.cloudfront import sync as s3sync

    monkeypatch.setattr(s3sync, "EVERYTHING_AFTER", 10)
    keys = [f"gezin/{s.key}/index.html" for s in section_map.protected if s.kind == "family"]
    assert plan_sync({}, {k: remote(k) for k in keys}, section_map).invalidations == ("/*",)


def test_headers_per_type():
    assert content_type("a/index.html") == "text/html; charset=utf-8"
    assert content_type("login/login.js") == "text/javascript; charset=utf-8"
    assert content_type("x/fotos/ab-1600.webp") == "image/webp"


def family_keys(section_map, sections: int, per_section: int) -> list[str]:
    families = [s for s in section_map.protected if s.kind == "family"][:sections]
    assert len(families) == sections
    return [f"{s.dir}/post-{n}/index.html" for s in families for n in range(per_section)]


def test_at_most_fifteen_wildcards_then_everything(section_map):
    from publish.targets.cloudfront.sync import MAX_WILDCARDS, SECTION_WILDCARD_AFTER

    assert MAX_WILDCARDS == 15
    busy = SECTION_WILDCARD_AFTER + 1  # enough changes to make a section a wildcard
    keys = family_keys(section_map, 15, busy) + ["index.html"]
    paths = plan_sync({}, {k: remote(k) for k in keys}, section_map).invalidations
    assert sum("*" in p for p in paths) == 15 and "/index.html" in paths

    keys = family_keys(section_map, 16, busy)
    assert plan_sync({}, {k: remote(k) for k in keys}, section_map).invalidations == ("/*",)


def test_paths_left_by_an_interrupted_publish_go_first_even_when_nothing_differs(section_map):
    files = {"school/index.html": local("school/index.html")}
    same = {"school/index.html": remote("school/index.html")}
    left = ("/groep/groep-3/fotos/old-1600.jpg", "/school/*")
    plan = plan_sync(files, same, section_map, pending=left)
    assert not (plan.uploads or plan.deletes or plan.privacy_deletes or plan.invalidations)
    assert plan.first_invalidations == tuple(sorted(left)) and not plan.is_empty
    assert [a for a, _ in plan.steps()] == ["invalidate-first"] * 2
    assert "onderbroken publicatie (journaal): 2 pad(en)" in plan.describe()
