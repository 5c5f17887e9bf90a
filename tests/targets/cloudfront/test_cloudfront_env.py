"""The project's .env: read from the project folder, updated by key rotation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cf_helpers import FakeStack, waf_stack
from dotenv import dotenv_values

from publish.targets.cloudfront.provision import provision
from publish.targets.cloudfront.rotation import rotate_keys
from publish.targets.cloudfront.settings import CloudFrontSettings
from publish.targets.cloudfront.signing import generate_key_pair

OURS = ("CLOUDFRONT_", "SCHOOLPLEIN_", "AWS_")


@pytest.fixture
def clean_environ(monkeypatch):
    """os.environ without our settings; whatever load_dotenv adds is undone afterwards."""
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items()
                                        if not k.startswith(OURS)})


def write_env(folder: Path, **values: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    env = folder / ".env"
    env.write_text("# Schoolplein\n" + "".join(f"{k}={v}\n" for k, v in values.items()))
    return env


def test_from_env_reads_the_project_env_not_the_current_folder(tmp_path, monkeypatch,
                                                               clean_environ):
    project = tmp_path / "project"
    write_env(project, CLOUDFRONT_KEY_PAIR_ID="KPROJECT", SCHOOLPLEIN_SCHOOL_NAME="OBS Het Anker",
              CLOUDFRONT_PRIVATE_KEY_FILE="private/key.pem")
    write_env(tmp_path / "elsewhere", CLOUDFRONT_KEY_PAIR_ID="KCWD")
    monkeypatch.chdir(tmp_path / "elsewhere")
    settings = CloudFrontSettings.from_env(root=project)
    assert settings.key_pair_id == "KPROJECT"
    assert settings.school_name == "OBS Het Anker"
    assert settings.private_key_file == project / "private/key.pem"
    assert settings.private_dir == project / "private"


def test_from_env_with_a_mapping_reads_no_file(tmp_path, clean_environ):
    write_env(tmp_path, CLOUDFRONT_KEY_PAIR_ID="KFILE")
    settings = CloudFrontSettings.from_env({}, root=tmp_path)
    assert settings.key_pair_id == "" and "CLOUDFRONT_KEY_PAIR_ID" not in os.environ
    assert settings.school_name == "Kc de Matrix"


def test_rotation_writes_the_new_key_into_env(tmp_path, roster, section_map, monkeypatch,
                                             clean_environ):
    monkeypatch.setattr("publish.targets.cloudfront.links.qr_svg", lambda url: "<svg></svg>")
    project = tmp_path / "project"
    (project / "private").mkdir(parents=True)
    generate_key_pair(project / "private/old.pem")
    env = write_env(project, CLOUDFRONT_KEY_PAIR_ID="K1OLD", CLOUDFRONT_KEY_GROUP_ID="kg-1",
                    CLOUDFRONT_DOMAIN="ouders.example.nl", SCHOOLPLEIN_ACCESS_UNTIL="2099-07-31",
                    CLOUDFRONT_PRIVATE_KEY_FILE="private/old.pem", SCHOOLPLEIN_S3_BUCKET="b")
    settings = CloudFrontSettings.from_env(root=project)
    cfn = FakeStack()
    provision(settings, cfn, waf=waf_stack(), out=lambda _: None)
    printed: list[str] = []
    rotate_keys(settings, roster, section_map, cfn,
                new_key_file=project / "private/new.pem", letters_dir=tmp_path / "brieven",
                env_file=env, out=printed.append)

    values = dotenv_values(env)
    assert values["CLOUDFRONT_KEY_PAIR_ID"] == "K2TESTKEY"
    assert values["CLOUDFRONT_PRIVATE_KEY_FILE"] == "private/new.pem"
    assert values["CLOUDFRONT_DOMAIN"] == "ouders.example.nl"  # the rest is kept
    assert env.read_text().startswith("# Schoolplein\n")
    assert any(str(env) in line and "CLOUDFRONT_KEY_PAIR_ID=K2TESTKEY" in line for line in printed)

    reread = CloudFrontSettings.from_env(dict(values), root=project)
    assert reread.key_pair_id == "K2TESTKEY"
    assert reread.private_key_file == project / "private/new.pem"


def test_rotation_keeps_key_file_setting_when_unchanged(tmp_path, roster, section_map,
                                                        monkeypatch, clean_environ):
    monkeypatch.setattr("publish.targets.cloudfront.links.qr_svg", lambda url: "<svg></svg>")
    monkeypatch.setattr("publish.targets.cloudfront.rotation.write_cloudfront_letters", lambda *a: [])
    key = tmp_path / "key.pem"
    env = write_env(tmp_path, CLOUDFRONT_KEY_PAIR_ID="K1OLD", CLOUDFRONT_PRIVATE_KEY_FILE=str(key))
    settings = CloudFrontSettings.from_env(dict(dotenv_values(env)) | {
        "CLOUDFRONT_KEY_GROUP_ID": "kg-1"}, root=tmp_path)
    cfn = FakeStack()
    cfn.params = {"BucketName": "b", "SigningKey": "A", "PublicKeyPem": "old", "PublicKeyPemB": ""}
    cfn.keys = {"PublicKey": ("K0OLDKEY", "old")}
    printed: list[str] = []
    rotate_keys(settings, roster, section_map, cfn, new_key_file=key,
                env_file=env, out=printed.append)
    assert dotenv_values(env) == {"CLOUDFRONT_KEY_PAIR_ID": "K1TESTKEY",
                                  "CLOUDFRONT_PRIVATE_KEY_FILE": str(key)}
    assert not any("CLOUDFRONT_PRIVATE_KEY_FILE=" in line for line in printed)


def test_school_name_comes_from_the_settings(tmp_path, clean_environ):
    from plugins.public_pages import render_login_assets
    from plugins.settings import load_settings
    from tasks.common import roster_and_sections
    from tests.helpers import ROOT

    os.environ["SCHOOLPLEIN_SCHOOL_NAME"] = "OBS Het Anker"
    render_login_assets(tmp_path / "a")
    assert "Inloggen bij OBS Het Anker" in (tmp_path / "a/login/index.html").read_text()
    render_login_assets(tmp_path / "b", school_name="Sitenaam")  # the build passes SITENAME
    assert "Inloggen bij Sitenaam" in (tmp_path / "b/login/index.html").read_text()

    cfg = load_settings(ROOT, {"SCHOOLPLEIN_SCHOOL_NAME": "OBS Het Anker"})
    assert CloudFrontSettings.from_settings(cfg).school_name == "OBS Het Anker"
    _, section_map = roster_and_sections(cfg)
    assert section_map.get("school", "school").title == "OBS Het Anker"
