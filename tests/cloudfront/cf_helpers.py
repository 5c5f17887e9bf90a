"""Helpers for the CloudFront tests: synthetic output trees, a moto server, state checks."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import yaml
from botocore.config import Config
from moto.server import ThreadedMotoServer

WRITE_OPERATIONS = {"PutObject", "DeleteObject", "DeleteObjects", "CreateMultipartUpload",
                    "UploadPart", "CompleteMultipartUpload", "CopyObject"}
REGION = "eu-central-1"


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps CloudFormation tags: `!Ref X` loads as {"Ref": "X"}."""


CfnLoader.add_multi_constructor("!", lambda loader, tag, node: {tag: (
    loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode)
    else loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
    else loader.construct_mapping(node))})


def load_template(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=CfnLoader)  # noqa: S506 - safe


def photo_name(section_dir: str, content: bytes, ext: str) -> str:
    digest = hashlib.sha256(content).hexdigest()[:16]
    return f"{section_dir}fotos/{digest}-1600.{ext}"


def make_tree(root: Path, section_map, *, groups: int = 2, marker: str = "v1") -> dict[str, bytes]:
    """A small build output: pages, feeds, hashed photos per section, theme assets."""
    files: dict[str, bytes] = {
        "index.html": b"<!doctype html><title>Kc de Matrix</title>",
        "privacy/index.html": b"<!doctype html><title>Privacy</title>",
        "robots.txt": b"User-agent: *\nDisallow: /\n",
        "theme/css/main.3f2a9c1d.css": b"body{margin:0}",
        "theme/js/site.js": b"console.log('x');",
        "login/index.html": b"<!doctype html><title>Inloggen</title>",
    }
    protected = [s for s in section_map.protected if s.kind != "group"][:2]
    protected += [s for s in section_map.protected if s.kind == "group"][:groups]
    for section in protected:
        base = section.dir + "/"
        posts = []
        for n in range(2):
            post = f"{base}2026-10-0{n + 1}-uitje/"
            jpg = f"{section.key}-{n}-photo".encode() * 40
            webp = f"{section.key}-{n}-webp".encode() * 30
            names = [photo_name(base, jpg, "jpg"), photo_name(base, webp, "webp")]
            files[names[0]], files[names[1]] = jpg, webp
            files[post + "index.html"] = (f"<!doctype html><title>Uitje {n}</title>"
                                          f"<img src='/{names[0]}'>").encode()
            posts.append(post)
        files[base + "index.html"] = (f"<!doctype html><title>{section.title}</title>{marker}"
                                      + "".join(posts)).encode()
        files[base + "feed.atom"] = f"<feed>{marker}</feed>".encode()
    write_tree(root, files)
    return files


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    if root.exists():
        shutil.rmtree(root)
    for key, data in files.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@dataclass
class Moto:
    server: ThreadedMotoServer
    port: int
    calls: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str = "s3", *, log: bool = True):
        client = boto3.client(
            service, endpoint_url=self.url, region_name=REGION, aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2,
                          read_timeout=10))
        if log:
            client.meta.events.register(f"before-parameter-build.{service}", self._record)
        return client

    def _record(self, model, params, **_):
        self.calls.append((model.name, params))

    def writes(self) -> list[tuple[str, dict]]:
        return [c for c in self.calls if c[0] in WRITE_OPERATIONS]

    def restart(self) -> None:
        """A new server on the same port; moto's state lives in this process and survives."""
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def stop(self) -> None:
        self.server.stop()


def bucket_state(s3, bucket: str) -> dict[str, str]:
    """key -> md5 of every object in the bucket."""
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = obj["ETag"].strip('"')
    return out


def output_state(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


class FakeCloudFront:
    """CloudFront key group with one key K1OLD; a new key gets the id K2NEW."""

    def __init__(self):
        self.group = ["K1OLD"]
        self.keys = {"K1OLD": "old"}
        self.log = []

    def create_public_key(self, PublicKeyConfig):  # noqa: N803
        self.keys["K2NEW"] = PublicKeyConfig["EncodedKey"]
        self.log.append("create")
        return {"PublicKey": {"Id": "K2NEW"}}

    def get_key_group(self, Id):  # noqa: N803
        return {"ETag": "e", "KeyGroup": {"KeyGroupConfig": {"Name": "g", "Items": self.group}}}

    def update_key_group(self, Id, IfMatch, KeyGroupConfig):  # noqa: N803
        self.group = list(KeyGroupConfig["Items"])
        self.log.append(("group", tuple(self.group)))

    def get_public_key(self, Id):  # noqa: N803
        return {"ETag": "k"}

    def delete_public_key(self, Id, IfMatch):  # noqa: N803
        del self.keys[Id]
        self.log.append(("delete", Id))


def distribution(cloudfront, bucket: str) -> str:
    origin = f"{bucket}.s3.amazonaws.com"
    config = {
        "CallerReference": uuid.uuid4().hex, "Comment": "schoolplein test", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "site", "DomainName": origin,
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "https-only",
                                 "MinTTL": 0, "ForwardedValues": {"QueryString": False,
                                                                 "Cookies": {"Forward": "none"}}},
    }
    return cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def invalidated_paths(cloudfront, dist: str) -> dict[str, list[str]]:
    """Invalidation id -> its paths."""
    items = cloudfront.list_invalidations(DistributionId=dist)["InvalidationList"].get("Items", [])
    return {i["Id"]: cloudfront.get_invalidation(DistributionId=dist, Id=i["Id"])["Invalidation"]
            ["InvalidationBatch"]["Paths"].get("Items", []) for i in items}
