"""The staff postvak on real nginx: write-only, and `invoke postvak` turns a complete
submission into a committed post that parents of that group read."""

from __future__ import annotations

import hashlib
import json
import uuid

from PIL import Image

from plugins.photos.tags import read_sidecar_tags
from tests.team.conftest import jpeg

KIDS = ["sem-bakker", "zoe-devries", "jayden-koster"]


def test_the_staff_postvak_is_write_only_and_for_staff(school, demo_roster):
    teacher = school.login(demo_roster.staff["lk-02"])
    parent = school.login(demo_roster.parents["ouder-001"])
    ident = str(uuid.uuid4())
    status, _, headers = school.put(teacher, ident, "foto-01.jpg", jpeg(1))
    assert status == 201 and "Access-Control-Allow-Origin" not in headers
    path = f"/team/lk-02/postvak/{ident}/foto-01.jpg"
    for method in ("GET", "HEAD", "DELETE", "POST", "PROPFIND", "MKCOL", "MOVE", "OPTIONS"):
        status, body, _ = school.client.request(method, path, teacher)
        assert status in (403, 405), (method, status)
        assert not body.startswith(b"\xff\xd8")
    assert school.client.get(f"/team/lk-02/postvak/{ident}/", teacher)[0] == 404  # no listing
    assert school.client.get("/team/lk-02/postvak/", teacher)[0] == 404
    colleague = school.login(demo_roster.staff["lk-03"])  # another teacher's page and postvak
    assert school.put(colleague, ident, "foto-02.jpg", jpeg(2))[0] == 403
    # a parent login is refused before anything is stored, also with a teacher's path
    before = sorted((school.deploy.spool / "team").rglob("*.jpg"))
    assert school.put(parent, ident, "foto-02.jpg", jpeg(2))[0] == 403
    assert school.put(None, ident, "foto-02.jpg", jpeg(2))[0] == 401
    assert school.put(teacher, ident, "foto-31.jpg", jpeg(2))[0] in (404, 405, 413)  # 31st
    assert school.put(teacher, ident, "film.mp4", b"\x00" * 100)[0] in (404, 405)
    assert school.put(teacher, ident, "foto-02.jpg", b"\xff" * (50 * 2**20))[0] == 413  # 50 MB
    assert school.put(teacher, "niet-een-uuid", "foto-02.jpg", jpeg(2))[0] in (404, 405, 413)
    assert sorted((school.deploy.spool / "team").rglob("*.jpg")) == before
    stored = list((school.deploy.spool / "team").rglob(f"{ident}/foto-01.jpg"))
    assert len(stored) == 1  # who sent it: the login nginx checked, in the path
    assert stored[0].relative_to(school.deploy.spool / "team").parts[0] == teacher[0]


def test_a_post_from_the_phone_becomes_a_committed_post_parents_read(school, demo_roster):
    teacher = demo_roster.staff["lk-02"]
    photos = {"foto-01.jpg": jpeg(11), "foto-02.jpg": jpeg(12), "foto-03.jpg": jpeg(13)}
    ident = school.send(school.login(teacher), {
        "soort": "bericht", "sectie": "group:groep-3", "titel": "Naar het bos",
        "tekst": "We zochten **paddenstoelen**.",
        "fotos": [{"bestand": "foto-01.jpg", "kinderen": KIDS,
                   "gezichten": {"sem-bakker": [0.3, 0.4, 0.1, 0.15]}},
                  {"bestand": "foto-02.jpg", "kinderen": [*KIDS, "sara-dewit"]},  # no consent
                  {"bestand": "foto-03.jpg", "kinderen": KIDS[:2]}]}, photos)  # a portrait
    done = school.postvak()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Teampostvak" in done.stdout and "1 geplaatst" in done.stdout, done.stdout
    folders = list((school.tmp / "content/groep/groep-3").glob("*-naar-het-bos"))
    assert len(folders) == 1
    post = folders[0]
    index = (post / "index.md").read_text()
    assert "Title: Naar het bos\n" in index and f"Author: {teacher.name}\n" in index
    assert (post / "fotos.txt").read_text().count("foto-0") == 3
    assert "mwg-rs:RegionList" in (post / "foto-01.jpg.xmp").read_text()
    # the tap is a fraction of the uploaded file: the region is drawn for its pixel size, so
    # the build trusts it on exactly that file (and drops it once cropped or resized)
    [tap], errors = read_sidecar_tags(post / "foto-01.jpg.xmp")
    assert not errors and tap.area == (0.3, 0.4, 0.1, 0.15) and tap.applied_to == (1200, 900)
    assert Image.open(post / "foto-01.jpg").size == (1200, 900)
    assert [p.name for p in sorted(post.glob("*.jpg"))] == list(photos)
    log = school.git_log()
    assert log.splitlines()[0].startswith(f"{teacher.name} <{teacher.email}>|Bericht 'Naar het bos'")
    tracked = school.git("ls-files", str(post.relative_to(school.tmp / "content")))
    assert "index.md" in tracked and "fotos.txt" in tracked and ".jpg\n" not in tracked
    # a parent of groep 3 reads it with exactly the one photo the rules allow
    url = f"/groep/groep-3/{post.name}/"
    parent = school.login(demo_roster.parents["ouder-001"])
    status, body, _ = school.client.get(url, parent)
    assert status == 200 and "paddenstoelen" in body.decode()
    assert body.decode().count('class="lightbox"') == 1
    assert school.client.get(url, school.login(demo_roster.parents["ouder-006"]))[0] == 403
    # the teacher's team page says geplaatst, with the link
    status, body, _ = school.client.get("/team/lk-02/", school.login(teacher))
    assert status == 200
    page = body.decode()
    assert "Naar het bos" in page and "geplaatst" in page and f'href="{url}"' in page
    again = school.postvak()  # nothing twice
    assert again.returncode == 0 and "geplaatst in content" not in again.stdout
    assert len(school.git_log().splitlines()) == len(log.splitlines())
    assert ident


def test_incomplete_submissions_wait_and_a_manifest_for_altered_bytes_is_refused(
        school, demo_roster):
    login = school.login(demo_roster.staff["lk-02"])
    ident = str(uuid.uuid4())
    manifest = {"v": 1, "soort": "bericht", "sectie": "group:groep-3", "titel": "Halfweg",
                "fotos": [{"bestand": "foto-01.jpg", "kinderen": KIDS,
                           "sha256": hashlib.sha256(jpeg(21)).hexdigest()}]}
    assert school.put(login, ident, "manifest.json", json.dumps(manifest).encode())[0] == 201
    done = school.postvak()
    assert done.returncode == 0 and "1 wachten op de rest" in done.stdout, done.stdout
    assert school.put(login, ident, "foto-01.jpg", jpeg(22))[0] == 201  # not the bytes named
    done = school.postvak()
    assert "1 wachten op de rest" in done.stdout, done.stdout
    assert not list((school.tmp / "content/groep/groep-3").glob("*-halfweg"))


def test_apache_takes_the_same_staff_postvak_and_publishes_the_post(apache_school, demo_roster):
    school = apache_school
    teacher = school.login(demo_roster.staff["lk-02"])
    ident = str(uuid.uuid4())
    assert school.put(teacher, ident, "foto-01.jpg", jpeg(31))[0] == 201
    assert school.put(teacher, ident, "foto-01.jpg", jpeg(31))[0] == 409  # never overwritten
    path = f"/team/lk-02/postvak/{ident}/foto-01.jpg"
    for method in ("GET", "HEAD", "DELETE", "PROPFIND", "OPTIONS"):
        assert school.client.request(method, path, teacher)[0] in (403, 405), method
    assert school.put(school.login(demo_roster.parents["ouder-001"]), ident, "foto-02.jpg",
                      jpeg(32))[0] == 403
    assert school.put(school.login(demo_roster.staff["lk-03"]), ident, "foto-02.jpg",
                      jpeg(32))[0] == 403
    assert school.put(None, ident, "foto-02.jpg", jpeg(32))[0] == 401
    assert school.put(teacher, ident, "foto-02.jpg", b"\xff" * (9 * 2**20))[0] == 413
    school.send(teacher, {"soort": "bericht", "sectie": "group:groep-3", "titel": "Via Apache",
                          "fotos": [{"bestand": "foto-01.jpg", "kinderen": KIDS}]},
                {"foto-01.jpg": jpeg(31)}, ident=ident)
    done = school.postvak()
    assert done.returncode == 0 and "1 geplaatst" in done.stdout, done.stdout + done.stderr
    (post,) = list((school.tmp / "content/groep/groep-3").glob("*-via-apache"))
    status, body, _ = school.client.get(f"/groep/groep-3/{post.name}/",
                                        school.login(demo_roster.parents["ouder-001"]))
    assert status == 200 and body.decode().count('class="lightbox"') == 1
