"""Helpers for the CloudFront tests: synthetic output trees, a moto server, state checks."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import yaml
from botocore.config import Config
from moto.server import ThreadedMotoServer

from publish.targets.cloudfront.settings import CloudFrontSettings
from publish.targets.cloudfront.signing import generate_key_pair

HARNESS = Path(__file__).with_name("viewer_request_harness.js")
NODE = shutil.which("node") or shutil.which("nodejs")
WRITE_OPERATIONS = {"PutObject", "DeleteObject", "DeleteObjects", "CreateMultipartUpload",
                    "UploadPart", "CompleteMultipartUpload", "CopyObject"}
REGION = "eu-central-1"
DOMAIN_EXAMPLE = "ouders.kcdematrix.example.nl"



def cf_settings(folder: Path, **overrides: str) -> CloudFrontSettings:
    """Settings for a test school: a new key pair and private/ in `folder`, the example domain,
    links valid until 2099; `overrides` adds or replaces .env keys."""
    key = folder / "keys" / "cloudfront.pem"
    generate_key_pair(key)
    return CloudFrontSettings.from_env({
        "CLOUDFRONT_DOMAIN": DOMAIN_EXAMPLE, "CLOUDFRONT_KEY_PAIR_ID": "K2TEST",
        "CLOUDFRONT_PRIVATE_KEY_FILE": str(key), "SCHOOLPLEIN_ACCESS_UNTIL": "2099-07-31",
        "SCHOOLPLEIN_PRIVATE": str(folder / "private"), **overrides})

class CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps CloudFormation tags: `!Ref X` loads as {"Ref": "X"}."""


CfnLoader.add_multi_constructor("!", lambda loader, tag, node: {tag: (
    loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode)
    else loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
    else loader.construct_mapping(node))})


def load_template(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=CfnLoader)  # noqa: S506 - safe


def photo_name(section_dir: str, content: bytes, ext: str) -> str:
    digest = hashlib.sha256(content).hexdigest()[:20]  # as plugins/photos/encode.py
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


NO_VALUE = object()


class FakeStack:
    """CloudFormation for one stack of publish/targets/cloudfront/cloudformation.yaml (or of
    `template`, e.g. waf.yaml), evaluated in memory.

    create_stack/update_stack apply parameters as CloudFormation does
    (UsePreviousValue, defaults, the template's Rules), evaluate the template's
    conditions and keep the CloudFront public keys and key group the stack would
    have. A key slot whose key material would change in place raises, as
    CloudFront cannot do that. `calls` logs every API call.
    """

    def __init__(self, name: str = "schoolplein", template: str | None = None):
        from publish.targets.cloudfront.provision import template_body

        body = template_body() if template is None else template
        self.template = yaml.load(body, Loader=CfnLoader)  # noqa: S506 - safe
        self.name = name
        self.params: dict[str, str] | None = None
        self.keys: dict[str, tuple[str, str]] = {}  # logical id -> (key id, pem)
        self.key_log: list[tuple[str, str]] = []  # ("create" | "delete", key id)
        self.calls: list[tuple[str, dict]] = []
        self._ids = iter(f"K{n}TESTKEY" for n in range(1, 100))

    def describe_stacks(self, StackName):  # noqa: N803 - boto3 naming
        from botocore.exceptions import ClientError

        self.calls.append(("describe", {}))
        if self.params is None:
            raise ClientError({"Error": {"Message": f"Stack with id {StackName} does not exist"}},
                              "DescribeStacks")
        return {"Stacks": [{"StackName": self.name, "StackStatus": "UPDATE_COMPLETE",
                            "Parameters": [{"ParameterKey": k, "ParameterValue": v}
                                           for k, v in self.params.items()],
                            "Outputs": [{"OutputKey": k, "OutputValue": v}
                                        for k, v in self.outputs().items()]}]}

    def create_stack(self, StackName, TemplateBody, Parameters, **kw):  # noqa: N803
        self.calls.append(("create", {"Parameters": Parameters}))
        self._apply(Parameters)

    def update_stack(self, StackName, TemplateBody, Parameters):  # noqa: N803
        from botocore.exceptions import ClientError

        self.calls.append(("update", {"Parameters": Parameters}))
        before = (dict(self.params), dict(self.keys))
        self._apply(Parameters)
        if (self.params, self.keys) == before:
            raise ClientError({"Error": {"Message": "No updates are to be performed."}},
                              "UpdateStack")

    def get_waiter(self, name):
        self.calls.append(("wait", {"name": name}))
        return type("Waiter", (), {"wait": lambda self, **kw: None})()

    def updates(self) -> list[dict[str, str]]:
        """The parameters each update set explicitly (UsePreviousValue left out)."""
        return [{p["ParameterKey"]: p["ParameterValue"] for p in kw["Parameters"]
                 if not p.get("UsePreviousValue")} for op, kw in self.calls if op == "update"]

    def key_group(self) -> list[str]:
        items = self.template["Resources"]["KeyGroup"]["Properties"]["KeyGroupConfig"]["Items"]
        return self._eval(items)

    def outputs(self) -> dict[str, str]:
        return {k: str(self._eval(v["Value"])) for k, v in self.template["Outputs"].items()}

    def _apply(self, parameters: list[dict]) -> None:
        from botocore.exceptions import ClientError

        given = {p["ParameterKey"]: p for p in parameters}
        params = {}
        for key, spec in self.template.get("Parameters", {}).items():
            if key in given and given[key].get("UsePreviousValue"):
                params[key] = self.params[key]
            elif key in given:
                params[key] = given[key]["ParameterValue"]
            elif "Default" in spec:
                params[key] = str(spec["Default"])
            else:
                raise ClientError({"Error": {"Message": f"Parameters: [{key}] must have values"}},
                                  "UpdateStack")
        old = self.params
        self.params = params
        for rule in self.template.get("Rules", {}).values():
            for assertion in rule["Assertions"]:
                if not self._eval(assertion["Assert"]):
                    self.params = old
                    raise ClientError({"Error": {"Message": assertion["AssertDescription"]}},
                                      "UpdateStack")
        for logical, resource in self.template["Resources"].items():
            if resource["Type"] != "AWS::CloudFront::PublicKey":
                continue
            pem = self._eval(resource["Properties"]["PublicKeyConfig"]["EncodedKey"])
            exists = self._condition(resource.get("Condition"))
            if exists and logical in self.keys and self.keys[logical][1] != pem:
                raise AssertionError(f"{logical}: CloudFront cannot change a key in place")
            if exists and logical not in self.keys:
                self.keys[logical] = (next(self._ids), pem)
                self.key_log.append(("create", self.keys[logical][0]))
            elif not exists and logical in self.keys:
                self.key_log.append(("delete", self.keys.pop(logical)[0]))

    def _condition(self, name: str | None) -> bool:
        return True if name is None else bool(self._eval(self.template["Conditions"][name]))

    def _eval(self, node):
        if isinstance(node, list):
            return [v for v in (self._eval(n) for n in node) if v is not NO_VALUE]
        if not isinstance(node, dict) or len(node) != 1:
            return node
        ((fn, arg),) = node.items()
        if fn == "Ref":
            if arg == "AWS::NoValue":
                return NO_VALUE
            if arg in self.params:
                return self.params[arg]
            return self.keys[arg][0] if arg in self.keys else f"<{arg}>"
        if fn == "GetAtt":
            return "d1.cloudfront.net" if arg == "Distribution.DomainName" else f"<{arg}>"
        if fn == "Condition":
            return self._condition(arg)
        if fn == "If":
            return self._eval(arg[1] if self._condition(arg[0]) else arg[2])
        values = [self._eval(a) for a in (arg if isinstance(arg, list) else [arg])]
        return {"Equals": lambda: values[0] == values[1], "Not": lambda: not values[0],
                "And": lambda: all(values), "Or": lambda: any(values)}.get(
                    fn, lambda: f"<{fn}>")()


def waf_stack() -> FakeStack:
    """The rate-limit stack (waf.yaml) as `provision` creates it in us-east-1."""
    from publish.targets.cloudfront.provision import WAF_TEMPLATE

    return FakeStack("schoolplein-waf", WAF_TEMPLATE.read_text(encoding="utf-8"))


def run_viewer_function(events: list[dict], revoked=(), kvs_down: bool = False) -> list[dict]:
    """Run the viewer-request function as provision deploys it (provision.viewer_request_code)
    in node (viewer_request_harness.js).

    Each event is {"uri", "method", "headers", "cookies"} (method GET, no headers
    or cookies when left out); each result {"result": request or response,
    "lookups": keys the function looked up in the key value store}.
    """
    from publish.targets.cloudfront.provision import viewer_request_code

    assert NODE, "node ontbreekt: voer scripts/bootstrap.sh uit"  # required, never skipped
    payload = {"code": viewer_request_code(), "revoked": [str(r) for r in revoked],
               "kvsDown": kvs_down, "events": events}
    done = subprocess.run([NODE, str(HARNESS)], input=json.dumps(payload), capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def cookies_of(link_url: str, prefix: str, domain: str) -> dict:
    """The CloudFront-Policy cookie a browser holds for `prefix` after opening the link."""
    from urllib.parse import parse_qs, unquote

    from publish.targets.cloudfront.signing import cf_b64encode, custom_policy

    fragment = parse_qs(link_url.split("#", 1)[1])
    assert any(unquote(c).rsplit(".", 1)[0] == prefix for c in fragment["c"]), prefix
    policy = custom_policy(domain, prefix, int(fragment["e"][0]))
    return {"CloudFront-Policy": {"value": cf_b64encode(policy.encode())}}


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
