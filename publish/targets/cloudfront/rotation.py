"""Replace the signing key: every existing login link and cookie stops working.

The key group lives in the CloudFormation stack, with two key slots, and the
rotation only ever updates the stack, so the stack never drifts from what runs:
new key pair -> stack update: the new public key into the free slot, signing
with it (both keys trusted) -> write the new key id (and key file) into the
project's .env, so nothing signs with the old key again -> re-issue all letters
-> stack update: the old slot emptied (this is the moment old links die).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from plugins.errors import Problem, SchoolpleinError
from plugins.roster import Roster
from plugins.sections import SectionMap
from plugins.settings import ROOT

from .links import write_cloudfront_letters
from .provision import KEY_SLOTS, apply_stack, current_stack, stack_outputs, stack_parameters
from .settings import CloudFrontSettings
from .signing import generate_key_pair


@dataclass(frozen=True)
class Rotation:
    key_pair_id: str
    private_key_file: Path
    removed_key_ids: tuple[str, ...]
    letters: tuple[Path, ...]
    slot: str  # the key slot (A or B) that now signs


def _env_value(path: Path, env_file: Path) -> str:
    """A path as .env holds it: relative to the project when inside it."""
    try:
        return path.resolve().relative_to(env_file.resolve().parent).as_posix()
    except ValueError:
        return str(path.resolve())


def update_env_file(env_file: Path, key_pair_id: str, key_file: Path,
                    old_key_file: Path | None = None) -> list[str]:
    """Point .env at the new key; returns the keys that were written."""
    from dotenv import set_key

    env_file.touch(mode=0o600, exist_ok=True)
    written = {"CLOUDFRONT_KEY_PAIR_ID": key_pair_id}
    if old_key_file is None or key_file.resolve() != old_key_file.resolve():
        written["CLOUDFRONT_PRIVATE_KEY_FILE"] = _env_value(key_file, env_file)
    for key, value in written.items():
        set_key(env_file, key, value, quote_mode="auto")
    return [f"{key}={value}" for key, value in written.items()]


def rotate_keys(settings: CloudFrontSettings, roster: Roster, section_map: SectionMap,
                cfn, *, new_key_file: Path | None = None,
                letters_dir: Path | None = None, env_file: Path | None = None,
                out: Callable[[str], None] = print) -> Rotation:
    """Rotate the CloudFront signing key; revokes every link issued before.

    The new key id and key file are written into `env_file` (the project's .env)
    before the old key is removed. A rotation that stopped half-way (both slots
    filled) is finished instead of starting a new one.
    """
    env_file = env_file or ROOT / ".env"
    stack = current_stack(cfn, settings.stack_name)
    if stack is None:
        raise SchoolpleinError(Problem(f"CloudFormation-stack {settings.stack_name}", None,
                                       "er is nog geen stack om de sleutel in te vervangen",
                                       "maak hem eerst met 'invoke provision'"))
    signing = stack_parameters(stack).get("SigningKey", "A")
    other = "B" if signing == "A" else "A"
    signing_id = stack_outputs(stack).get("PublicKeyId", "")
    if stack_parameters(stack).get(KEY_SLOTS[other]):
        if settings.key_pair_id != signing_id:
            raise SchoolpleinError(Problem(
                ".env", None, f"een eerdere sleutelwissel is niet afgemaakt: de stack tekent met "
                f"sleutel {signing_id}, .env noemt {settings.key_pair_id or 'geen'}",
                f"zet CLOUDFRONT_KEY_PAIR_ID={signing_id} en CLOUDFRONT_PRIVATE_KEY_FILE op het "
                "nieuwste private/cloudfront-*.pem in .env en draai 'invoke rotate-keys' opnieuw"))
        out("Een eerdere sleutelwissel wordt afgemaakt.")
        return _finish(settings, roster, section_map, cfn, other, letters_dir, out,
                       Rotation(signing_id, settings.private_key_file, (), (), signing))

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    key_file = new_key_file or settings.private_key_file.with_name(f"cloudfront-{stamp}.pem")
    pem = generate_key_pair(key_file)
    stack = apply_stack(cfn, settings.stack_name, {KEY_SLOTS[other]: pem, "SigningKey": other},
                        out=out)
    new_id = stack_outputs(stack)["PublicKeyId"]
    out(f"Nieuwe sleutel {new_id} (vak {other}) staat in de sleutelgroep.")
    lines = update_env_file(env_file, new_id, key_file, settings.private_key_file)
    out(f"{env_file} bijgewerkt (de oude sleutel wordt niet meer gebruikt):\n"
        + "\n".join(f"  {line}" for line in lines))
    fresh = dataclasses.replace(settings, key_pair_id=new_id, private_key_file=key_file)
    return _finish(fresh, roster, section_map, cfn, signing, letters_dir, out,
                   Rotation(new_id, key_file, (signing_id,) if signing_id else (), (), other))


def _finish(settings: CloudFrontSettings, roster: Roster, section_map: SectionMap, cfn,
            old_slot: str, letters_dir: Path | None, out: Callable[[str], None],
            rotation: Rotation) -> Rotation:
    """Re-issue every letter with the new key, then empty the old key's slot."""
    letters = write_cloudfront_letters(roster, section_map, settings, letters_dir)
    out(f"{len(letters)} nieuwe brieven geschreven in {letters[0].parent if letters else '-'}.")
    apply_stack(cfn, settings.stack_name, {KEY_SLOTS[old_slot]: ""}, out=out)
    out("Alle oude inloglinks werken niet meer (ook niet in browsers die al ingelogd waren).\n"
        "Deel de nieuwe brieven uit.")
    return dataclasses.replace(rotation, letters=tuple(letters))
