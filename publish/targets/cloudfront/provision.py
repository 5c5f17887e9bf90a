"""Create or update the CloudFormation stacks and report what the admin needs in .env.

Two stacks: the site (cloudformation.yaml, in the bucket's region) and the
postvak's rate limits (waf.yaml, `<stack>-waf`): an AWS WAF web ACL for
CloudFront can only be created in us-east-1.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import ClientError, WaiterError

from plugins.errors import Problem, SchoolpleinError
from plugins.sections import ROOTS

from .settings import CloudFrontSettings
from .signing import load_private_key, public_pem

TEMPLATE = Path(__file__).with_name("cloudformation.yaml")
WAF_TEMPLATE = Path(__file__).with_name("waf.yaml")
WAF_REGION = "us-east-1"  # where CloudFront's web ACLs live
VIEWER_REQUEST_JS = Path(__file__).with_name("templates") / "viewer-request.js"
FUNCTION_CODE_LINE = 'FunctionCode: "{{viewer-request.js}}"'
# Stack output -> .env key the admin copies it into.
ENV_KEYS = {"BucketName": "SCHOOLPLEIN_S3_BUCKET",
            "DistributionId": "CLOUDFRONT_DISTRIBUTION_ID",
            "DistributionDomainName": "CLOUDFRONT_DOMAIN",
            "KeyGroupId": "CLOUDFRONT_KEY_GROUP_ID",
            "PublicKeyId": "CLOUDFRONT_KEY_PAIR_ID",
            "RevokedLinksArn": "CLOUDFRONT_KVS_ARN"}


PROTECTED_ROOTS_LINE = re.compile(r"^const PROTECTED_ROOTS = \[.*\];$", re.M)


def viewer_request_code() -> str:
    """The viewer-request function as CloudFront runs it (and the tests, in node).

    Its protected roots are the section map's (plugins.sections.ROOTS), so a new
    protected section needs no edit here; whole-line comments are left out, as
    CloudFront Functions take at most 10 KB of code.
    """
    source = VIEWER_REQUEST_JS.read_text(encoding="utf-8")
    roots = json.dumps(sorted(ROOTS.values())).replace('"', "'")
    source, found = PROTECTED_ROOTS_LINE.subn(f"const PROTECTED_ROOTS = {roots};", source)
    assert found == 1, "viewer-request.js: PROTECTED_ROOTS line not found"
    return "".join(line for line in source.splitlines(keepends=True)
                   if not line.lstrip().startswith("//"))


def template_body() -> str:
    """The stack template with the viewer-request function's code put in.

    The JavaScript lives in its own file (one source, tested with node); the
    YAML holds a placeholder line that becomes a literal block here.
    """
    text = TEMPLATE.read_text(encoding="utf-8")
    (line,) = [ln for ln in text.splitlines() if ln.strip() == FUNCTION_CODE_LINE]
    indent = line[:len(line) - len(line.lstrip())]
    code = viewer_request_code()
    block = "".join(f"{indent}  {ln}\n" if ln else "\n" for ln in code.splitlines())
    return text.replace(line + "\n", f"{indent}FunctionCode: |\n{block}", 1)


# The template's parameters. On update, every one not given keeps its previous value.
PARAMETERS = ("BucketName", "PublicKeyPem", "PublicKeyPemB", "SigningKey", "DomainName",
              "CertificateArn", "LogRetentionDays", "WebAclArn")
KEY_SLOTS = {"A": "PublicKeyPem", "B": "PublicKeyPemB"}


def current_stack(cfn, name: str) -> dict | None:
    """The stack as CloudFormation describes it, or None when there is none."""
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return stacks[0] if stacks and stacks[0]["StackStatus"] != "DELETE_COMPLETE" else None


def stack_parameters(stack: dict) -> dict[str, str]:
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}


def stack_outputs(stack: dict) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def apply_stack(cfn, name: str, changes: dict[str, str], *, create: bool = False,
                out: Callable[[str], None] = print, body: str | None = None,
                parameters: tuple[str, ...] = PARAMETERS) -> dict:
    """Create the stack, or update it changing only `changes`; waits; returns the stack.

    On update every other parameter keeps its previous value (UsePreviousValue),
    so nothing set earlier (domain, certificate, keys) is lost by accident.
    `body` and `parameters`: another template than the site's (waf.yaml).
    """
    body = template_body() if body is None else body
    try:
        if create:
            params = [{"ParameterKey": k, "ParameterValue": v} for k, v in changes.items()]
            out(f"Stack '{name}' aanmaken (CloudFront kan 5 tot 15 minuten duren)…")
            cfn.create_stack(StackName=name, TemplateBody=body, Parameters=params,
                             OnFailure="ROLLBACK")
            cfn.get_waiter("stack_create_complete").wait(StackName=name)
        else:
            previous = stack_parameters(current_stack(cfn, name) or {})
            params = [{"ParameterKey": k, "ParameterValue": changes[k]} if k in changes
                      else {"ParameterKey": k, "UsePreviousValue": True}
                      for k in parameters if k in changes or k in previous]
            out(f"Stack '{name}' bijwerken…")
            try:
                cfn.update_stack(StackName=name, TemplateBody=body, Parameters=params)
            except ClientError as exc:
                if "No updates are to be performed" not in str(exc):
                    raise
                out("Er was niets te veranderen.")
            else:
                cfn.get_waiter("stack_update_complete").wait(StackName=name)
    except (ClientError, WaiterError) as exc:
        raise SchoolpleinError(Problem(
            f"CloudFormation-stack {name}", None, f"aanmaken of bijwerken is mislukt ({exc})",
            "bekijk de gebeurtenissen van de stack in de AWS-console; daarna opnieuw "
            "'invoke provision' draaien is veilig")) from exc
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def rate_limits(settings: CloudFrontSettings, waf, out: Callable[[str], None] = print) -> str:
    """Create or update the postvak's rate limits (stack `<stack>-waf`); returns the web ACL ARN.

    `waf` is a CloudFormation client in us-east-1.
    """
    name = f"{settings.stack_name}-waf"
    stack = apply_stack(waf, name, {}, create=current_stack(waf, name) is None, out=out,
                        body=WAF_TEMPLATE.read_text(encoding="utf-8"), parameters=())
    return stack_outputs(stack)["WebAclArn"]


def provision(settings: CloudFrontSettings, cfn, *, domain_name: str = "",
              certificate_arn: str = "", remove_domain: bool = False,
              log_days: int | None = None, waf=None,
              out: Callable[[str], None] = print) -> dict[str, str]:
    """Create the stacks (or update them) and wait; returns the site stack's outputs.

    On update, what is not given is kept: the own domain and certificate (unless
    `remove_domain`), the keys (only `invoke rotate-keys` changes them), the log
    retention. `waf`: the CloudFormation client for the rate limits (us-east-1);
    made from the settings when not given.
    """
    name = settings.stack_name
    exists = current_stack(cfn, name) is not None
    if remove_domain and (domain_name or certificate_arn):
        raise SchoolpleinError(Problem("invoke provision", None,
                                       "--zonder-domein gaat niet samen met --domein of "
                                       "--certificaat", "kies één van de twee"))
    if bool(domain_name) != bool(certificate_arn):
        raise SchoolpleinError(Problem("invoke provision", None,
                                       "een eigen domein heeft een certificaat nodig (en omgekeerd)",
                                       "geef --domein en --certificaat samen (ACM, us-east-1)"))
    changes = {"BucketName": settings.bucket}
    if domain_name or remove_domain:
        changes |= {"DomainName": domain_name, "CertificateArn": certificate_arn}
    if log_days is not None:
        changes["LogRetentionDays"] = str(log_days)
    if not exists:
        changes |= {"PublicKeyPem": public_pem(load_private_key(settings.private_key_file)),
                    "SigningKey": "A"}
    if waf is None:
        from . import aws_client

        waf = aws_client("cloudformation", settings, region=WAF_REGION)
    changes["WebAclArn"] = rate_limits(settings, waf, out)
    stack = apply_stack(cfn, name, changes, create=not exists, out=out)
    outputs = stack_outputs(stack)
    domain = stack_parameters(stack).get("DomainName") or outputs.get("DistributionDomainName", "?")
    out(f"Klaar. Site: https://{domain}/ (snelheidslimiet van het postvak: stack "
        f"'{name}-waf' in {WAF_REGION})")
    out("Zet in .env:")
    for key, env_key in ENV_KEYS.items():
        if key in outputs:
            out(f"  {env_key}={domain if key == 'DistributionDomainName' else outputs[key]}")
    return outputs
