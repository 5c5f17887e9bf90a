"""Replace the signing key: every existing login link and cookie stops working.

Order: new key pair -> add its public key to the key group -> write the new
key id (and key file) into the project's .env, so nothing signs with the old
key again -> re-issue all letters with the new key -> remove the old key(s)
from the group (this is the moment old links die) -> delete the old public keys.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from plugins.roster import Roster
from plugins.sections import SectionMap

from .cloudfront_settings import CloudFrontSettings
from .cloudfront_signing import generate_key_pair
from .config import ROOT
from .login_links import write_cloudfront_letters


@dataclass(frozen=True)
class Rotation:
    key_pair_id: str
    private_key_file: Path
    removed_key_ids: tuple[str, ...]
    letters: tuple[Path, ...]


def _set_group_items(cloudfront, group_id: str, items: list[str]) -> None:
    current = cloudfront.get_key_group(Id=group_id)
    config = dict(current["KeyGroup"]["KeyGroupConfig"], Items=items)
    cloudfront.update_key_group(Id=group_id, IfMatch=current["ETag"], KeyGroupConfig=config)


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
                cloudfront, *, new_key_file: Path | None = None,
                letters_dir: Path | None = None, env_file: Path | None = None,
                out: Callable[[str], None] = print) -> Rotation:
    """Rotate the CloudFront signing key; revokes every link issued before.

    The new key id and key file are written into `env_file` (the project's .env)
    before the old key is revoked.
    """
    env_file = env_file or ROOT / ".env"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    key_file = new_key_file or settings.private_key_file.with_name(f"cloudfront-{stamp}.pem")
    pem = generate_key_pair(key_file)
    created = cloudfront.create_public_key(PublicKeyConfig={
        "CallerReference": f"schoolplein-{time.time_ns()}",
        "Name": f"{settings.stack_name}-{stamp}",
        "EncodedKey": pem,
        "Comment": "Schoolplein inloglinks (invoke rotate-keys)",
    })
    new_id = created["PublicKey"]["Id"]
    old_ids = [i for i in cloudfront.get_key_group(Id=settings.key_group_id)["KeyGroup"]
               ["KeyGroupConfig"]["Items"] if i != new_id]
    _set_group_items(cloudfront, settings.key_group_id, [*old_ids, new_id])
    out(f"Nieuwe sleutel {new_id} toegevoegd aan de sleutelgroep.")
    lines = update_env_file(env_file, new_id, key_file, settings.private_key_file)
    out(f"{env_file} bijgewerkt (de oude sleutel wordt niet meer gebruikt):\n"
        + "\n".join(f"  {line}" for line in lines))

    fresh = dataclasses.replace(settings, key_pair_id=new_id, private_key_file=key_file)
    letters = write_cloudfront_letters(roster, section_map, fresh, letters_dir)
    out(f"{len(letters)} nieuwe brieven geschreven in {letters[0].parent if letters else '-'}.")

    _set_group_items(cloudfront, settings.key_group_id, [new_id])
    for old in old_ids:
        try:
            etag = cloudfront.get_public_key(Id=old)["ETag"]
            cloudfront.delete_public_key(Id=old, IfMatch=etag)
        except Exception as exc:  # removal from the group already revoked it
            out(f"Let op: oude sleutel {old} is uit de groep gehaald maar niet verwijderd "
                f"({exc}).")
    out("Alle oude inloglinks werken niet meer (ook niet in browsers die al ingelogd waren).\n"
        "Deel de nieuwe brieven uit.")
    return Rotation(new_id, key_file, tuple(old_ids), tuple(letters))
