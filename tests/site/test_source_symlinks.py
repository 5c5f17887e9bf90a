"""A symlink in anything the build reads stops the build, on every target, before anything is
written or published; and no target publishes a copy of a secret (issue 15, section 1)."""

from __future__ import annotations

import getpass
import shutil
import uuid

import pytest

from plugins.errors import SchoolpleinError
from plugins.site import build
from publish.secret_scan import leaks
from publish.targets.cloudfront.signing import generate_key_pair
from tests.helpers import ROOT, project_copy, run_invoke

FAMILY = "68amruh9btpfys3dk9wr"  # the demo parent's family (roster/ouders.csv)
POST = "content/groep/groep-3/2026-10-02-kinderboerderij"
# Every kind of folder the build reads, with a link in it (the path of the link).
LINKS = (
    "content/school/2026-12-01-sleutel.md",
    f"{POST}/sleutel.jpg",
    f"{POST}/sleutel.jpg.xmp",
    f"content/gezin/{FAMILY}/2026-12-01-sleutel.md",
    "content/publiek/sleutel.md",
    "content/groep/groep-4/geheim",  # a linked folder
    "theme/static/css/sleutel.css",
    "theme/templates/sleutel.html",
    "theme/public/sleutel.js",
    "roster/sleutel.csv",
    f"private/postvak/gezinnen/{FAMILY}.json",
)


@pytest.fixture
def school(tmp_path):
    """Copies of content/, theme/ and roster/, a private folder and the key a link points at."""
    for name in ("content", "theme", "roster"):
        shutil.copytree(ROOT / name, tmp_path / name)
    key = tmp_path / "private" / "cloudfront-private-key.pem"
    generate_key_pair(key)
    return tmp_path, key


def place(root, rel, key):
    link = root / rel
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(key.parent if rel.endswith("geheim") else key)
    return link


def run_build(tmp, **extra):
    return build(output_path=str(tmp / "out"), path=str(tmp / "content"),
                 theme=str(tmp / "theme"), schoolplein_roster=str(tmp / "roster"),
                 schoolplein_private=str(tmp / "private"), photo_cache_dir=str(tmp / "cache"),
                 photo_audit_dir=str(tmp / "audit"), **extra)


@pytest.mark.parametrize("rel", LINKS)
def test_a_symlink_in_any_source_folder_stops_the_build_before_anything_is_written(school, rel):
    tmp, key = school
    place(tmp, rel, key)
    with pytest.raises(SchoolpleinError) as info:
        run_build(tmp)
    [problem] = info.value.problems
    assert problem.file.endswith(rel) and "snelkoppeling (symlink)" in problem.message
    assert str(key.parent) in problem.message  # where it points, so the admin sees the danger
    assert "vervang de snelkoppeling" in problem.fix
    assert not (tmp / "out").exists() and not (tmp / "cache").exists()
    assert not (tmp / "audit").exists()


def test_the_demo_school_without_links_builds(school):
    tmp, _ = school
    run_build(tmp)
    assert (tmp / "out" / "index.html").is_file()


def test_folders_named_by_the_settings_are_walked_too(school):
    """THEME_STATIC_PATHS, STATIC_PATHS and EXTRA_PATH_METADATA may name folders elsewhere."""
    tmp, key = school
    extra = tmp / "extra-static"
    extra.mkdir()
    (extra / "logo.css").symlink_to(key)
    with pytest.raises(SchoolpleinError, match="extra-static/logo.css"):
        run_build(tmp, theme_static_paths=["static", str(extra)])
    meta = tmp / "elders"
    meta.mkdir()
    (meta / "x.md").symlink_to(key)
    with pytest.raises(SchoolpleinError, match="elders/x.md"):
        run_build(tmp, extra_path_metadata={str(meta): {"path": "x"}})


def test_the_folders_themselves_may_be_links_the_admin_chose(school):
    tmp, _ = school
    (tmp / "content").rename(tmp / "school-content")
    (tmp / "content").symlink_to(tmp / "school-content")
    run_build(tmp)
    assert (tmp / "out" / "school" / "index.html").is_file()


# --- every target, as the admin runs it ----------------------------------------------------

def linked_project(tmp_path):
    """A copy of the project with a link to the CloudFront key in every folder the build reads."""
    root, env = project_copy(tmp_path)
    key = root / "private" / "cloudfront-private-key.pem"
    generate_key_pair(key)
    links = [place(root, rel, key) for rel in LINKS]
    links.append(place(root, "plugins/sleutel.py", key))  # the build's own code
    env.update(CLOUDFRONT_PRIVATE_KEY_FILE=str(key), SCHOOLPLEIN_WEB_USER=getpass.getuser())
    return root, env, links


def assert_stopped_naming_every_link(result, root, links):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert "Er is niets gepubliceerd" in result.stderr
    for link in links:
        assert f"{link.relative_to(root)}: snelkoppeling (symlink)" in result.stderr, (
            link, result.stderr)
    assert result.stderr.count("snelkoppeling (symlink)") == len(links), result.stderr


def test_invoke_build_names_every_link(tmp_path):
    root, env, links = linked_project(tmp_path)
    result = run_invoke("build", env=env, cwd=root)
    assert_stopped_naming_every_link(result, root, links)
    assert not (root / "output").exists()
    assert not [p for p in root.parent.rglob(".build-*")]


def test_invoke_publish_nginx_publishes_nothing(tmp_path):
    root, env, links = linked_project(tmp_path)
    result = run_invoke("publish", "--target", "nginx", env=env, cwd=root)
    assert_stopped_naming_every_link(result, root, links)
    assert not (root / "deploy").exists()  # no release, no password file, no nginx or Apache conf


def test_invoke_publish_cloudfront_uploads_nothing(tmp_path, moto_s3):
    url, s3 = moto_s3
    bucket = f"schoolplein-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    root, env, links = linked_project(tmp_path)
    env.update(SCHOOLPLEIN_S3_BUCKET=bucket, AWS_ENDPOINT_URL=url, AWS_REGION="eu-central-1",
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    result = run_invoke("publish", "--target", "cloudfront", env=env, cwd=root)
    assert_stopped_naming_every_link(result, root, links)
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


@pytest.fixture
def moto_s3():
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{server.get_host_and_port()[1]}"
    try:
        yield url, boto3.client("s3", endpoint_url=url, region_name="eu-central-1",
                                aws_access_key_id="testing", aws_secret_access_key="testing")
    finally:
        server.stop()


# --- defence in depth: a plain copy of a secret -----------------------------------------------

def test_leaks_finds_copies_of_secrets_and_key_headers_anywhere(tmp_path):
    private = tmp_path / "private"
    key = private / "cloudfront-private-key.pem"
    generate_key_pair(key)
    (private / "accounts.csv").write_text("person_id,login,hash\nouder-001,a@b.nl,$2b$04$x\n")
    env = tmp_path / ".env"
    env.write_text("AWS_SECRET_ACCESS_KEY=abc\n")
    out = tmp_path / "output"
    (out / "theme" / "css").mkdir(parents=True)
    (out / "groep" / "groep-3" / "fotos").mkdir(parents=True)
    shutil.copy(key, out / "theme" / "css" / "main.css")
    shutil.copy(private / "accounts.csv", out / "groep" / "groep-3" / "index.html")
    shutil.copy(env, out / "robots.txt")
    page = b"<p>" + b"x" * (1 << 20) + b"-----BEGIN OPENSSH PRIVATE KEY-----\nabc</p>"
    (out / "school.html").write_bytes(page)  # the header straddles the first 1 MiB chunk
    (out / "groep" / "groep-3" / "fotos" / "0123456789abcdef0123-1600.jpg").write_bytes(
        b"\xff\xd8" + b"-----BEGIN RSA PRIVATE KEY-----")
    (out / "index.html").write_text("<p>Welkom; een -----BEGIN PUBLIC KEY----- mag.</p>")
    found = {p.file.rsplit("output/", 1)[1]: p.message
             for p in leaks(out, [key, private / "accounts.csv", env])}
    assert sorted(found) == ["groep/groep-3/fotos/0123456789abcdef0123-1600.jpg",
                             "groep/groep-3/index.html", "robots.txt", "school.html",
                             "theme/css/main.css"]
    assert "kopie van" in found["theme/css/main.css"] and "cloudfront-private-key.pem" in found[
        "theme/css/main.css"]
    assert "privésleutel" in found["school.html"]


def copied_secret_project(tmp_path):
    """A project whose theme holds a plain copy of the key (not a link: the build copies it)
    and whose school post quotes a pasted key."""
    root, env = project_copy(tmp_path, SCHOOLPLEIN_WEB_USER=getpass.getuser())
    key = root / "private" / "cloudfront-private-key.pem"
    generate_key_pair(key)
    shutil.copy(key, root / "theme" / "static" / "css" / "extra.css")
    (root / "content" / "school" / "2026-12-01-sleutel.md").write_text(
        "Title: Sleutel\nDate: 2026-12-01\n\n    " + "\n    ".join(
            key.read_text().splitlines()[:2]) + "\n")
    env["CLOUDFRONT_PRIVATE_KEY_FILE"] = str(key)
    return root, env


def assert_refused_copy(result):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert "theme/css/extra.css: dit bestand is een kopie van" in result.stderr, result.stderr
    assert "cloudfront-private-key.pem" in result.stderr
    assert "2026-12-01-sleutel/index.html: dit bestand bevat een privésleutel" in result.stderr


def test_nginx_publish_refuses_a_copied_key_before_any_live_file_changes(tmp_path):
    root, env = copied_secret_project(tmp_path)
    result = run_invoke("publish", "--target", "nginx", env=env, cwd=root)
    assert_refused_copy(result)
    assert not (root / "deploy").exists()


def test_cloudfront_publish_refuses_a_copied_key_before_any_request(tmp_path, moto_s3):
    url, s3 = moto_s3
    bucket = f"schoolplein-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    root, env = copied_secret_project(tmp_path)
    env.update(SCHOOLPLEIN_S3_BUCKET=bucket, AWS_ENDPOINT_URL=url, AWS_REGION="eu-central-1",
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    for args in (("--dry-run",), ()):
        result = run_invoke("publish", "--target", "cloudfront", *args, env=env, cwd=root)
        assert_refused_copy(result)
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
