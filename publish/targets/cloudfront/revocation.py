"""Revoke one person's login links without re-issuing everyone's.

Every person's links expire at their own second, a few seconds before the end
of the access period; a private registry (`private/cloudfront-links.json`)
records which second was issued to whom, and which cookie paths their newest
link opens. When a person leaves the roster, gets a new link because the old
one was lost, or may read less than a link of theirs opens (another group,
another household, another role, a child who left a group), their second is
revoked: `invoke publish --target cloudfront` puts it on the CloudFront
KeyValueStore deny-list that the viewer-request function checks on every
protected request. Seconds already in the past need no entry and are dropped
from the list.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from plugins.errors import Problem, SchoolpleinError

REGISTRY_NAME = "cloudfront-links.json"
SPREAD = 24 * 3600  # the expiries of one access period lie within its last day
KVS_BATCH = 50  # keys per UpdateKeys request
DENIED = "ingetrokken"  # the value stored with each revoked second


class RevocationError(SchoolpleinError):
    header = "Publiceren gestopt. Er is niets gepubliceerd."


def covered(prefix: str, by: Iterable[str]) -> bool:
    """True when a cookie for `prefix` opens nothing that cookies for `by` do not."""
    return any(prefix.startswith(other) for other in by)


@dataclass(frozen=True)
class AccessChange:
    """What a person may read now against what their links open (cookie paths)."""

    person_id: str
    lost: tuple[str, ...]  # opened by a live link, no longer theirs to read
    gained: tuple[str, ...]  # theirs to read, in no link yet
    unknown: bool = False  # a link issued before the registry kept paths: treated as lost

    @property
    def narrowed(self) -> bool:
        return bool(self.lost) or self.unknown


class LinkRegistry:
    """person id -> expiry seconds issued to them; revoked second -> person id;
    person id -> the cookie paths their newest link opens (covering every live link)."""

    def __init__(self, path: Path, issued: dict[str, list[int]] | None = None,
                 revoked: dict[str, str] | None = None,
                 access: dict[str, list[str]] | None = None):
        self.path = path
        self.issued = issued or {}
        self.revoked = revoked or {}
        self.access = access or {}

    @classmethod
    def load(cls, private_dir: Path) -> LinkRegistry:
        path = Path(private_dir) / REGISTRY_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (ValueError, OSError) as exc:
            raise SchoolpleinError(Problem(
                str(path), None, f"het register van uitgegeven inloglinks is onleesbaar ({exc})",
                "zet de reservekopie terug; zonder register kan de school geen links intrekken"
            )) from None
        return cls(path, {k: list(v) for k, v in data.get("issued", {}).items()},
                   dict(data.get("revoked", {})),
                   {k: list(v) for k, v in data.get("access", {}).items()})

    def save(self, now: float | None = None) -> None:
        """Write atomically (mode 0600); seconds already past are forgotten."""
        now = time.time() if now is None else now
        issued = {p: sorted(e for e in es if e > now) for p, es in self.issued.items()}
        data = {"issued": {p: es for p, es in sorted(issued.items()) if es},
                "revoked": {e: p for e, p in sorted(self.revoked.items()) if int(e) > now},
                "access": {p: sorted(a) for p, a in sorted(self.access.items()) if issued.get(p)}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
        os.replace(tmp, self.path)

    def expiry_for(self, person_id: str, period_end: int) -> int:
        """This person's expiry second for the period ending at `period_end`.

        Reuses the one issued before (a re-printed letter still matches the old
        one), unless it was revoked; a new one is the latest second not issued to anyone.
        """
        current = [e for e in self.issued.get(person_id, ())
                   if period_end - SPREAD < e < period_end and str(e) not in self.revoked]
        if current:
            return max(current)
        taken = {e for es in self.issued.values() for e in es} | {int(e) for e in self.revoked}
        expiry = period_end - 1
        while expiry in taken:
            expiry -= 1
        self.issued.setdefault(person_id, []).append(expiry)
        return expiry

    def live(self, person_id: str, now: float | None = None) -> list[int]:
        """The seconds of this person's links that still work (issued, not revoked, ahead)."""
        now = time.time() if now is None else now
        return [e for e in self.issued.get(person_id, ()) if str(e) not in self.revoked and e > now]

    def change(self, person_id: str, prefixes: Iterable[str]) -> AccessChange | None:
        """How `prefixes` (what the person may read now) differ from what their live links
        open; None when they hold no live link or nothing changed."""
        prefixes = set(prefixes)
        if not self.live(person_id):
            return None
        if person_id not in self.access:
            return AccessChange(person_id, (), tuple(sorted(prefixes)), unknown=True)
        old = set(self.access[person_id])
        lost = tuple(sorted(p for p in old if not covered(p, prefixes)))
        gained = tuple(sorted(p for p in prefixes if not covered(p, old)))
        return AccessChange(person_id, lost, gained) if lost or gained else None

    def issue(self, person_id: str, period_end: int, prefixes: Iterable[str]) -> int:
        """The expiry second for a new link opening `prefixes`, recorded with them.

        When the person's live links open anything `prefixes` do not, those links
        are revoked first: a link never outlives a narrowing of its owner's access.
        """
        prefixes = sorted(set(prefixes))
        change = self.change(person_id, prefixes)
        if change is not None and change.narrowed:
            self.revoke(person_id)
        expiry = self.expiry_for(person_id, period_end)
        self.access[person_id] = prefixes
        return expiry

    def revoke(self, person_id: str) -> list[int]:
        """Revoke every second issued to this person; returns the newly revoked ones."""
        fresh = [e for e in self.issued.get(person_id, ()) if str(e) not in self.revoked]
        for expiry in fresh:
            self.revoked[str(expiry)] = person_id
        return fresh

    def revoke_absent(self, present: Iterable[str]) -> list[str]:
        """Revoke everyone who holds links but is no longer in the roster."""
        present = set(present)
        return sorted(p for p in self.issued if p not in present and self.revoke(p))

    def owner(self, expiry: int) -> tuple[str, bool] | None:
        """(person id, revoked?) of the person this second was issued to, or None."""
        if str(expiry) in self.revoked:
            return self.revoked[str(expiry)], True
        for person_id, expiries in self.issued.items():
            if expiry in expiries:
                return person_id, False
        return None

    def deny_list(self, now: float | None = None) -> set[str]:
        """Revoked seconds still in the future: the keys the KeyValueStore must hold."""
        now = time.time() if now is None else now
        return {e for e in self.revoked if int(e) > now}


@dataclass(frozen=True)
class DenyListChange:
    added: tuple[str, ...]
    removed: tuple[str, ...]


def sync_deny_list(kvs, arn: str, wanted: set[str], *, dry_run: bool = False) -> DenyListChange:
    """Make the KeyValueStore hold exactly `wanted`; an unchanged list makes no write."""
    try:
        etag = kvs.describe_key_value_store(KvsARN=arn)["ETag"]
        present = {item["Key"] for page in kvs.get_paginator("list_keys").paginate(KvsARN=arn)
                   for item in page.get("Items", [])}
        change = DenyListChange(tuple(sorted(wanted - present)), tuple(sorted(present - wanted)))
        if dry_run:
            return change
        ops = ([("Puts", {"Key": k, "Value": DENIED}) for k in change.added]
               + [("Deletes", {"Key": k}) for k in change.removed])
        for start in range(0, len(ops), KVS_BATCH):
            batch: dict[str, list[dict]] = {}
            for name, op in ops[start:start + KVS_BATCH]:
                batch.setdefault(name, []).append(op)
            etag = kvs.update_keys(KvsARN=arn, IfMatch=etag, **batch)["ETag"]
    except (BotoCoreError, ClientError) as exc:
        raise RevocationError(Problem(
            f"CloudFront KeyValueStore {arn}", None,
            f"de lijst met ingetrokken inloglinks kon niet worden bijgewerkt "
            f"({type(exc).__name__}: {exc}); er is niets gepubliceerd",
            "controleer CLOUDFRONT_KVS_ARN in .env ('invoke provision' toont hem) en de "
            "AWS-sleutels; opnieuw publiceren is veilig")) from exc
    return change


def maintain_revocations(registry: LinkRegistry, present: Iterable[str], kvs, arn: str, *,
                         dry_run: bool = False, out: Callable[[str], None] = print,
                         now: float | None = None) -> DenyListChange | None:
    """Revoke the links of people gone from the roster and update the deny-list.

    A changed registry is saved before the KeyValueStore is touched, so a
    failed update is retried by the next publish.
    """
    gone = registry.revoke_absent(present)
    if gone:
        out(("Proefrun: zou intrekken" if dry_run else "Inloglinks ingetrokken")
            + f" van {len(gone)} persoon/personen niet meer in de leerlingenadministratie: "
            + ", ".join(gone))
        if not dry_run:
            registry.save(now)
    wanted = registry.deny_list(now)
    if not arn:
        if wanted:
            raise RevocationError(Problem(
                ".env", None, "CLOUDFRONT_KVS_ARN ontbreekt, dus ingetrokken inloglinks "
                f"({len(wanted)}) zouden blijven werken; er is niets gepubliceerd",
                "voer 'invoke provision' uit en zet de getoonde CLOUDFRONT_KVS_ARN in .env"))
        return None
    change = sync_deny_list(kvs, arn, wanted, dry_run=dry_run)
    if change.added or change.removed:
        out(("Proefrun: " if dry_run else "")
            + f"Lijst met ingetrokken links: {len(change.added)} erbij, "
            f"{len(change.removed)} verlopen en verwijderd.")
    return change
