"""Replace the signing key: every existing login link and cookie stops working.

Order: new key pair -> add its public key to the key group -> re-issue all
letters with the new key -> remove the old key(s) from the group (this is the
moment old links die) -> delete the old public keys.
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


def rotate_keys(settings: CloudFrontSettings, roster: Roster, section_map: SectionMap,
                cloudfront, *, new_key_file: Path | None = None,
                letters_dir: Path | None = None,
                out: Callable[[str], None] = print) -> Rotation:
    """Rotate the CloudFront signing key; revokes every link issued before."""
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
        "Zet in .env:\n"
        f"  CLOUDFRONT_KEY_PAIR_ID={new_id}\n"
        f"  CLOUDFRONT_PRIVATE_KEY_FILE={key_file}\n"
        "en deel de nieuwe brieven uit.")
    return Rotation(new_id, key_file, tuple(old_ids), tuple(letters))
