"""The team tests' school: a private demo school in git, published to real nginx, Apache or
S3 + CloudFront (moto), and phone pages in the `browser` fixture's Chromium (tests.chromium)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from plugins.roster import load_roster
from publish.targets.basic_auth import Deploy, local_server
from tests.helpers import demo_site, passphrase, run_invoke, start_apache
from tests.http_client import Client


def jpeg(seed: int, size=(1200, 900)) -> bytes:
    """A photo-like JPEG (noise, no people)."""
    rnd = random.Random(seed)
    img = Image.new("RGB", (40, 30))
    img.putdata([(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256))
                 for _ in range(40 * 30)])
    out = io.BytesIO()
    img.resize(size).save(out, "JPEG", quality=85)
    return out.getvalue()


def git_init(folder: Path) -> None:
    for args in (["init", "-q"], ["add", "-A"],
                 ["-c", "user.name=Beheer", "-c", "user.email=beheer@example.nl", "commit",
                  "-q", "-m", "Start"]):
        subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


@dataclass
class School:
    tmp: Path
    env: dict
    letters: str
    client: Client
    base: str
    deploy: Deploy

    def login(self, person) -> tuple[str, str]:
        return person.email, passphrase(self.letters, person.email)

    def open(self, phone, person):
        """A phone page logged in as `person` (the browser answers the password prompt)."""
        return phone(self.login(person))

    def postvak(self) -> subprocess.CompletedProcess:
        return run_invoke("postvak", "--target", "nginx", env=self.env)

    def put(self, login, ident: str, name: str, body: bytes, staff: str = "lk-02"):
        return self.client.request("PUT", f"/team/{staff}/postvak/{ident}/{name}", login, body,
                                   {"Content-Type": "application/octet-stream"})

    def send(self, login, manifest: dict, photos: dict[str, bytes] | None = None,
             ident: str | None = None, staff: str = "lk-02") -> str:
        """PUT each photo, then the manifest (naming each file with its SHA-256), as the
        editor does; returns the submission id."""
        ident = ident or str(uuid.uuid4())
        photos = photos or {}
        for name, data in photos.items():
            assert self.put(login, ident, name, data, staff)[0] in (201, 409), name  # 409: there
        for photo in manifest.get("fotos", []):
            if photo["bestand"] in photos:
                photo.setdefault("sha256", hashlib.sha256(photos[photo["bestand"]]).hexdigest())
        status = self.put(login, ident, "manifest.json", json.dumps({"v": 1, **manifest}).encode(),
                          staff)
        assert status[0] == 201, status
        return ident

    def git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.tmp / "content"), *args],
                              capture_output=True, text=True, check=True).stdout

    def git_log(self) -> str:
        return self.git("log", "--format=%an <%ae>|%s")


def _consents(tmp_path: Path) -> None:
    children = tmp_path / "roster" / "leerlingen.csv"  # two groep 3 children without full consent
    children.write_text(children.read_text().replace("sara-dewit,Sara,de Wit,groep-3,",
                                                     "sara-dewit,Sara,de Wit,groep-3,geen")
                        .replace("lieke-vermeulen,Lieke,Vermeulen,groep-3,",
                                 "lieke-vermeulen,Lieke,Vermeulen,groep-3,groep"))


def _private_school(tmp_path: Path, port: int, **extra: str) -> tuple[dict, str]:
    env, letters = demo_site(tmp_path, port)
    env.update(extra)
    _consents(tmp_path)
    git_init(tmp_path / "content")
    first = run_invoke("publish", "--target", "nginx", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    return env, letters


@pytest.fixture
def school(tmp_path):
    """A private copy of the demo school, its content/ in git, published to nginx."""
    port = local_server.free_port()
    env, letters = _private_school(tmp_path, port)
    deploy = Deploy(tmp_path / "deploy" / "nginx")
    proc = local_server.start(deploy, port)
    client = Client(f"http://127.0.0.1:{port}")
    try:
        yield School(tmp_path, env, letters, client, f"http://127.0.0.1:{port}", deploy)
    finally:
        client.close()
        local_server.stop(proc)


@pytest.fixture
def apache_school():
    """The same school published and served by Apache (mod_dav for the staff postvak). Its
    workers run as www-data: the school lives in a folder that user can reach."""
    base = Path(tempfile.mkdtemp(prefix="sp-team-apache-", dir="/tmp"))
    os.chmod(base, 0o755)
    port = local_server.free_port()
    listen = f"127.0.0.1:{port}"
    web_user = "www-data" if os.geteuid() == 0 else os.environ.get("USER", "root")
    env, letters = _private_school(base, port, SCHOOLPLEIN_WEB_USER=web_user)
    deploy = Deploy(base / "deploy" / "nginx")
    proc = start_apache(deploy.apache_conf, base / "run", listen)
    client = Client(f"http://{listen}")
    try:
        yield School(base, env, letters, client, f"http://{listen}", deploy)
    finally:
        client.close()
        local_server.stop(proc)
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class CloudFrontSchool:
    """The same school published to S3 (moto's server) behind the stack's distribution (the
    Edge: the viewer function in node, signed cookies, the postvak's origin)."""

    tmp: Path
    env: dict
    base: str
    links: dict
    edge: object

    def open(self, phone, person):
        """A phone page that opened `person`'s login link (the login script sets the cookies)."""
        link = self.links[person.id]
        page = phone(None)
        page.goto(self.base + "/login/#" + link.url.split("#", 1)[1])
        page.wait_for_url("**" + link.home)
        return page

    def postvak(self) -> subprocess.CompletedProcess:
        return run_invoke("postvak", "--target", "cloudfront", env=self.env)

    def git_log(self) -> str:
        return subprocess.run(["git", "-C", str(self.tmp / "content"), "log", "--format=%an|%s"],
                              capture_output=True, text=True, check=True).stdout


@pytest.fixture
def cloudfront_school(tmp_path):
    """A private demo school published to a moto bucket and read through the Edge."""
    import sys

    folder = Path(__file__).resolve().parents[1] / "targets" / "cloudfront"
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    from cf_helpers import DOMAIN_EXAMPLE, REGION
    from edge import Edge
    from moto.server import ThreadedMotoServer

    from plugins.sections import build_section_map
    from publish.targets.cloudfront.links import login_links
    from publish.targets.cloudfront.revocation import LinkRegistry
    from publish.targets.cloudfront.settings import CloudFrontSettings
    from publish.targets.cloudfront.signing import generate_key_pair, load_private_key
    from tests.helpers import demo_school

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    edge = None
    try:
        moto_url = f"http://127.0.0.1:{moto.get_host_and_port()[1]}"
        bucket = f"schoolplein-{uuid.uuid4().hex[:12]}"
        key = tmp_path / "keys" / "cloudfront.pem"
        generate_key_pair(key)
        env = demo_school(tmp_path, CLOUDFRONT_DOMAIN=DOMAIN_EXAMPLE, CLOUDFRONT_KEY_PAIR_ID="K2TEAM",
                          CLOUDFRONT_PRIVATE_KEY_FILE=str(key),
                          SCHOOLPLEIN_ACCESS_UNTIL="2099-07-31", SCHOOLPLEIN_S3_BUCKET=bucket,
                          AWS_ENDPOINT_URL=moto_url, AWS_REGION=REGION,
                          AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                          SCHOOLPLEIN_SITEURL="https://" + DOMAIN_EXAMPLE)
        cf = CloudFrontSettings.from_env(env)
        import boto3

        s3 = boto3.client("s3", endpoint_url=moto_url, region_name=REGION,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        edge = Edge(s3, bucket, cf.domain,
                    {cf.key_pair_id: load_private_key(key).public_key()}).start()
        _consents(tmp_path)
        accounts = run_invoke("accounts", env=env)
        assert accounts.returncode == 0, accounts.stdout + accounts.stderr
        roster = load_roster(tmp_path / "roster")
        links = login_links(roster, build_section_map(roster, "Kc de Matrix"), cf,
                            registry=LinkRegistry.load(cf.private_dir))  # the letters' links
        git_init(tmp_path / "content")
        first = run_invoke("publish", "--target", "cloudfront", env=env)
        assert first.returncode == 0, first.stdout + first.stderr
        yield CloudFrontSchool(tmp_path, env, edge.url, links, edge)
    finally:
        if edge is not None:
            edge.stop()
        moto.stop()


@pytest.fixture(scope="session")
def demo_roster():
    return load_roster(Path(__file__).resolve().parents[2] / "roster")


@pytest.fixture
def phone(browser):
    """A new phone-sized context per test (tests.chromium); `phone(login)` opens one with that
    basic-auth login."""
    from tests.chromium import phone as phone_context

    contexts = []

    def open_as(login=None):
        context = phone_context(browser, login, locale="nl-NL")
        contexts.append(context)
        return context.new_page()

    yield open_as
    for context in contexts:
        context.close()
