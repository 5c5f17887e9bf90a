"""Bad input stops the admin's task with a clear message, and nothing is published."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from tests.helpers import demo_school, run_invoke


@pytest.fixture
def school(tmp_path):
    """A private copy of the demo school, published once successfully."""
    # the deploy folder lies under pytest's private tmp: the web server here is this user
    env = demo_school(tmp_path, SCHOOLPLEIN_WEB_USER=getpass.getuser())
    assert run_invoke("accounts", env=env).returncode == 0
    first = run_invoke("publish", "--target", "nginx", env=env)
    assert first.returncode == 0, first.stderr
    return tmp_path, env


def snapshot(deploy: Path) -> dict[str, bytes]:
    current = (deploy / "nginx" / "current").resolve()
    return {str(p.relative_to(current)): p.read_bytes() for p in current.rglob("*") if p.is_file()}


def publish_fails(env, *fragments):
    result = run_invoke("publish", "--target", "nginx", env=env)
    assert result.returncode != 0
    assert "Er is niets gepubliceerd" in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    return result


def test_roster_error_stops_publish_and_keeps_the_old_site(school):
    tmp, env = school
    before = snapshot(tmp / "deploy")
    releases = sorted((tmp / "deploy" / "nginx" / "releases").iterdir())
    kids = tmp / "roster" / "leerlingen.csv"
    n = len(kids.read_text().splitlines())
    kids.write_text(kids.read_text() + "nieuw-kind,Nieuw,Kind,groep-99,\n")
    publish_fails(env, f"leerlingen.csv:{n + 1}", "onbekende groep 'groep-99'", "oplossing:")
    assert snapshot(tmp / "deploy") == before
    assert sorted((tmp / "deploy" / "nginx" / "releases").iterdir()) == releases


def test_post_in_unknown_folder_stops_publish(school):
    tmp, env = school
    before = snapshot(tmp / "deploy")
    post = tmp / "content" / "klas-3" / "2026-11-20-uitje.md"
    post.parent.mkdir()
    post.write_text("Title: Uitje klas 3\nDate: 2026-11-20\n\nHallo.\n")
    publish_fails(env, "klas-3/2026-11-20-uitje.md", "onbekende map 'klas-3'",
                  "content/groep/<groep>/")
    assert snapshot(tmp / "deploy") == before
    assert not any(b"Uitje klas 3" in b for b in before.values())


def test_post_in_unknown_group_folder_names_the_known_groups(school):
    tmp, env = school
    post = tmp / "content" / "groep" / "groep-9" / "2026-11-20-uitje.md"
    post.parent.mkdir()
    post.write_text("Title: Uitje\nDate: 2026-11-20\n\nHallo.\n")
    publish_fails(env, "groep/groep-9/2026-11-20-uitje.md", "onbekende map 'groep-9'",
                  "groep-5-6")


def test_consent_change_removes_the_old_files_from_the_published_site(school):
    """Stale files are gone from what nginx serves, not only unreferenced."""
    tmp, env = school
    post = tmp / "content" / "groep" / "groep-3" / "2026-09-18-eerste-weken.md"
    post.unlink()
    assert run_invoke("publish", "--target", "nginx", env=env).returncode == 0
    after = snapshot(tmp / "deploy")
    assert not any(k.startswith("groep/groep-3/2026-09-18-eerste-weken") for k in after)


def latest_audit(tmp: Path) -> dict:
    import json

    return json.loads(sorted((tmp / "audit").glob("fotos-*.json"))[-1].read_text())


def test_opt_out_removes_earlier_published_photos_from_the_site(school):
    """Consent is retroactive: after 'beeldgebruik: geen' no image of the child is served."""
    tmp, env = school
    before = latest_audit(tmp)
    with_zoe = [f for f in before["fotos"] if f["published"] and "zoe-devries" in f["children"]]
    assert with_zoe, "the demo needs a published photo of Zoë"
    served = snapshot(tmp / "deploy")
    old_files = [o.lstrip("/") for f in with_zoe for o in f["outputs"]]
    assert all(o in served for o in old_files)

    kids = tmp / "roster" / "leerlingen.csv"
    kids.write_text(kids.read_text().replace("zoe-devries,Zoë,de Vries,groep-3,",
                                             "zoe-devries,Zoë,de Vries,groep-3,geen"))
    result = run_invoke("publish", "--target", "nginx", env=env)
    assert result.returncode == 0, result.stderr
    after = snapshot(tmp / "deploy")
    assert not [o for o in old_files if o in after]
    audit = latest_audit(tmp)
    assert not [f for f in audit["fotos"] if f["published"] and "zoe-devries" in f["children"]]
    assert "Zoë" not in result.stdout + result.stderr  # the reason never names the child
    # other photos of the post are still there
    assert any(k.startswith("groep/groep-3/fotos/") for k in after)


def test_strict_build_fails_on_dropped_photos_and_names_them(tmp_path):
    env = {
        "SCHOOLPLEIN_OUTPUT": str(tmp_path / "output"),
        "SCHOOLPLEIN_PHOTO_CACHE": str(tmp_path / "cache"),
        "SCHOOLPLEIN_AUDIT": str(tmp_path / "audit"),
    }
    result = run_invoke("build", "--strict", env=env)
    assert result.returncode != 0
    assert "kinderboerderij/portret.jpg" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "output").exists()
    relaxed = run_invoke("build", env=env)
    assert relaxed.returncode == 0, relaxed.stderr
    assert (tmp_path / "output" / "groep" / "groep-3" / "fotos").is_dir()


def test_publish_rsyncs_the_release_to_the_server_named_in_env(school):
    tmp, env = school
    remote = tmp / "server"
    remote.mkdir()
    result = run_invoke("publish", "--target", "nginx",
                        env={**env, "SCHOOLPLEIN_RSYNC_DEST": str(remote)})
    assert result.returncode == 0, result.stderr
    served = remote / "current"
    assert (served / "groep" / "groep-3" / "index.html").exists()
    assert (remote / "htpasswd" / "schoolplein.htpasswd").exists()
    conf = (remote / "nginx-schoolplein.conf").read_text()
    # the config names the paths on the server, not on the admin's machine
    assert f"root {remote}/current;" in conf
    assert f"auth_basic_user_file {remote}/htpasswd/schoolplein.htpasswd;" in conf
    htaccess = (served / "groep" / "groep-3" / ".htaccess").read_text()
    assert f'AuthUserFile "{remote}/htpasswd/schoolplein.htpasswd"' in htaccess


def test_dry_run_shows_the_plan_and_changes_nothing(school):
    tmp, env = school
    before = snapshot(tmp / "deploy")
    (tmp / "content" / "groep" / "groep-3" / "2026-09-18-eerste-weken.md").unlink()
    result = run_invoke("publish", "--target", "nginx", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert "verwijderd" in result.stdout
    assert "groep/groep-3/2026-09-18-eerste-weken/index.html" in result.stdout
    assert snapshot(tmp / "deploy") == before


def test_strict_from_env_is_honoured(school):
    tmp, env = school
    result = run_invoke("build", env={**env, "SCHOOLPLEIN_STRICT": "1"})
    assert result.returncode != 0 and "portret.jpg" in result.stderr
