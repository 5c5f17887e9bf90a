"""Create or update the CloudFormation stack and report what the admin needs in .env."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import ClientError, WaiterError

from plugins.errors import Problem, SchoolpleinError

from .cloudfront_settings import CloudFrontSettings
from .cloudfront_signing import load_private_key, public_pem

TEMPLATE = Path(__file__).with_name("cloudformation.yaml")
VIEWER_REQUEST_JS = Path(__file__).with_name("templates") / "viewer-request.js"
FUNCTION_CODE_LINE = 'FunctionCode: "{{viewer-request.js}}"'
# Stack output -> .env key the admin copies it into.
ENV_KEYS = {"BucketName": "SCHOOLPLEIN_S3_BUCKET",
            "DistributionId": "CLOUDFRONT_DISTRIBUTION_ID",
            "DistributionDomainName": "CLOUDFRONT_DOMAIN",
            "KeyGroupId": "CLOUDFRONT_KEY_GROUP_ID",
            "PublicKeyId": "CLOUDFRONT_KEY_PAIR_ID",
            "RevokedLinksArn": "CLOUDFRONT_KVS_ARN"}


def template_body() -> str:
    """The stack template with the viewer-request function's code put in.

    The JavaScript lives in its own file (one source, tested with node); the
    YAML holds a placeholder line that becomes a literal block here.
    """
    text = TEMPLATE.read_text(encoding="utf-8")
    (line,) = [ln for ln in text.splitlines() if ln.strip() == FUNCTION_CODE_LINE]
    indent = line[:len(line) - len(line.lstrip())]
    code = VIEWER_REQUEST_JS.read_text(encoding="utf-8")
    block = "".join(f"{indent}  {ln}\n" if ln else "\n" for ln in code.splitlines())
    return text.replace(line + "\n", f"{indent}FunctionCode: |\n{block}", 1)


def _exists(cfn, name: str) -> bool:
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return False
        raise
    return bool(stacks) and stacks[0]["StackStatus"] != "DELETE_COMPLETE"


def provision(settings: CloudFrontSettings, cfn, *, domain_name: str = "",
              certificate_arn: str = "", out: Callable[[str], None] = print) -> dict[str, str]:
    """Create the stack (or update it) and wait; returns the stack outputs.

    The public key is passed only on creation: after `rotate-keys` the key group
    is managed outside the stack and an update must not put the old key back.
    """
    name = settings.stack_name
    exists = _exists(cfn, name)
    params = [{"ParameterKey": "BucketName", "ParameterValue": settings.bucket},
              {"ParameterKey": "DomainName", "ParameterValue": domain_name},
              {"ParameterKey": "CertificateArn", "ParameterValue": certificate_arn}]
    if exists:
        params.append({"ParameterKey": "PublicKeyPem", "UsePreviousValue": True})
    else:
        pem = public_pem(load_private_key(settings.private_key_file))
        params.append({"ParameterKey": "PublicKeyPem", "ParameterValue": pem})
    body = template_body()
    try:
        if exists:
            out(f"Stack '{name}' bijwerken…")
            try:
                cfn.update_stack(StackName=name, TemplateBody=body, Parameters=params)
            except ClientError as exc:
                if "No updates are to be performed" not in str(exc):
                    raise
                out("Er was niets te veranderen.")
            else:
                cfn.get_waiter("stack_update_complete").wait(StackName=name)
        else:
            out(f"Stack '{name}' aanmaken (CloudFront kan 5 tot 15 minuten duren)…")
            cfn.create_stack(StackName=name, TemplateBody=body, Parameters=params,
                             OnFailure="ROLLBACK")
            cfn.get_waiter("stack_create_complete").wait(StackName=name)
    except (ClientError, WaiterError) as exc:
        raise SchoolpleinError(Problem(
            f"CloudFormation-stack {name}", None, f"aanmaken of bijwerken is mislukt ({exc})",
            "bekijk de gebeurtenissen van de stack in de AWS-console; daarna opnieuw "
            "'invoke provision' draaien is veilig")) from exc
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    out(f"Klaar. Site: https://{outputs.get('DistributionDomainName', '?')}/")
    out("Zet in .env:")
    shown = dict(outputs, DistributionDomainName=domain_name) if domain_name else outputs
    for key, env_key in ENV_KEYS.items():
        if key in shown:
            out(f"  {env_key}={shown[key]}")
    return outputs
