"""The postvak on S3: where parents' submissions wait, who sent them, and collecting them.

The family page PUTs one JSON document to /gezin/<family>/postvak/<uuid>.json
(behaviour POSTVAK_PATH, signed cookies of the family section). The
viewer-request function checks it and passes it on as
/gezin/<family>/postvak/<expiry>/<uuid>.json, where <expiry> is the expiry
second in the sender's CloudFront-Policy cookie; the behaviour's origin (the
same bucket, origin path /.postvak) stores it as

    .postvak/gezin/<family>/postvak/<expiry>/<uuid>.json

Every person's links carry their own second (revocation.LinkRegistry), and
CloudFront only lets a request through with a policy the school signed that
covers the family's path (the rewritten URI stays under it, so this holds
whether CloudFront checks the cookie before or after the function). So the
second names the sender; the JSON body never does. The family is the path's.
`collect` maps the second to the person (private/cloudfront-links.json) and the
person to their login (the e-mail address in the roster) for `Received.sender`,
as nginx writes `$remote_user`.

Collecting is List + Get + Delete with the admin's own AWS credentials (the
bucket policy lets CloudFront write the spool but never read it). An object is
deleted only after `store` returned, so a run killed at any point loses
nothing, and a re-run hands the same envelope to `store` again, which changes
nothing (postvak.intake is idempotent for an identical envelope).

The staff postvak takes the same route: the editor PUTs each photo and then the
manifest to /team/<staff>/postvak/<uuid>/<file> (behaviour TEAM_POSTVAK_PATH,
the staff member's own signed cookies), stored as

    .postvak/team/<staff>/postvak/<expiry>/<uuid>/<file>

and `collect_team` hands each file to postvak.team.intake_file as a TeamFile.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from plugins.errors import Problem, SchoolpleinError
from plugins.roster import Person, Roster
from plugins.sections import ROOTS

if TYPE_CHECKING:
    from postvak.store import Received

from .objects import SPOOL
from .revocation import LinkRegistry

POSTVAK_PATH = f"{ROOTS['family']}*/postvak/*"  # the cache behaviour that takes the PUTs
TEAM_POSTVAK_PATH = f"{ROOTS['team']}*/postvak/*"  # and the one for the staff's PUTs
TEAM_SPOOL = SPOOL + ROOTS["team"].lstrip("/")  # where the staff's files wait
ORIGIN_PATH = "/" + SPOOL.rstrip("/")  # that behaviour's origin: the bucket's spool
KEY_RE = re.compile(rf"^{re.escape(SPOOL + ROOTS['family'].lstrip('/'))}(?P<family>[a-z0-9]{{16,40}})"
                    r"/postvak/(?P<expiry>[0-9]{1,12})/(?P<id>[^/]+)\.json$")
TEAM_KEY_RE = re.compile(rf"^{re.escape(TEAM_SPOOL)}(?P<staff>[a-z0-9][a-z0-9_-]*)"
                         r"/postvak/(?P<expiry>[0-9]{1,12})/(?P<id>[^/]+)/(?P<name>[^/]+)$")


class CollectError(SchoolpleinError):
    header = ("Ophalen uit het postvak gestopt. Wat al is opgehaald staat veilig in "
              "private/postvak/; opnieuw ophalen is veilig.")


def stored_uri(family: str, expiry: int, ident: str) -> str:
    """The URI the viewer function sends a submission on with (under the family's path)."""
    return f"{ROOTS['family']}{family}/postvak/{expiry}/{ident}.json"


def spool_key(family: str, expiry: int, ident: str) -> str:
    """Where that URI lands in the bucket (ORIGIN_PATH in front)."""
    return ORIGIN_PATH.lstrip("/") + stored_uri(family, expiry, ident)


def team_stored_uri(staff: str, expiry: int, ident: str, name: str) -> str:
    """The URI the viewer function sends a staff member's file on with (under their path)."""
    return f"{ROOTS['team']}{staff}/postvak/{expiry}/{ident}/{name}"


@dataclass(frozen=True)
class Senders:
    """Expiry second -> the login that sent it; never a login for a second it cannot vouch for.

    A second that was revoked, that nobody was issued, or whose person left the
    roster becomes a description without '@': it matches no parent's login, so
    processing quarantines the submission with it, for the admin to judge.
    """

    registry: LinkRegistry
    people: dict[str, Person]

    @classmethod
    def of(cls, registry: LinkRegistry, roster: Roster) -> Senders:
        return cls(registry, {p.id: p for p in roster.people()})

    def login(self, expiry: int) -> str:
        owner = self.registry.owner(expiry)
        if owner is None:
            return f"onbekende inloglink (verloopt op seconde {expiry})"
        person_id, revoked = owner
        if revoked:
            return f"ingetrokken inloglink van {person_id} (seconde {expiry})"
        if person_id not in self.people:
            return f"inloglink van {person_id}, niet meer in de roster (seconde {expiry})"
        return self.people[person_id].email


@dataclass(frozen=True)
class Waiting:
    key: str
    size: int
    last_modified: datetime


def waiting(s3, bucket: str, prefix: str = SPOOL) -> list[Waiting]:
    """Every object under `prefix`, oldest first (folder markers are no submissions).

    The parents' part of the spool is all of it but the staff's (TEAM_SPOOL).
    """
    found = [Waiting(obj["Key"], obj["Size"], obj["LastModified"])
             for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
             for obj in page.get("Contents", []) if not obj["Key"].endswith("/")
             and (prefix == TEAM_SPOOL or not obj["Key"].startswith(TEAM_SPOOL))]
    return sorted(found, key=lambda w: (w.last_modified, w.key))


def _get(s3, bucket: str, item: Waiting, limit: int):
    """The object (read up to `limit` + 1 bytes), or None when it is gone (collected meanwhile)."""
    ranged = {"Range": f"bytes=0-{limit}"} if item.size > limit else {}
    try:
        return s3.get_object(Bucket=bucket, Key=item.key, **ranged)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise


def envelope(s3, bucket: str, item: Waiting, senders: Senders) -> Received | None:
    """The submission as the server received it, or None when it is gone (collected meanwhile).

    Time is the object's Last-Modified (server time); a body over MAX_BODY, which
    only a writer bypassing CloudFront can leave, is read up to one byte more so
    intake quarantines it as too large.
    """
    from postvak.messages import MAX_BODY  # the postvak's record, imported when collecting
    from postvak.store import Received

    answer = _get(s3, bucket, item, MAX_BODY)
    if answer is None:
        return None
    body = answer["Body"].read()
    match = KEY_RE.match(item.key)
    if match:
        family, ident = match["family"], match["id"]
        sender = senders.login(int(match["expiry"]))
    else:  # not written by the viewer function: kept, so processing quarantines it
        parts = item.key[len(SPOOL):].split("/")
        family, ident = (parts[1] if len(parts) > 2 else ""), parts[-1].removesuffix(".json")
        sender = f"onbekend: niet via de site opgeslagen ({item.key[:120]})"
    return Received(ident, family, sender, answer["LastModified"], body, f"s3://{bucket}/{item.key}")


def team_file(s3, bucket: str, item: Waiting, senders: Senders):
    """A staff member's file as the server received it (postvak.team.TeamFile), or None.

    The same rules as `envelope`: the sender from the expiry second, the time
    from S3, an oversized body read one byte past the limit, an object of
    another shape handed on with a sender that is nobody, so intake or
    processing sets it aside with the reason.
    """
    from postvak.team import MAX_FILE, TeamFile  # imported when collecting

    answer = _get(s3, bucket, item, MAX_FILE)
    if answer is None:
        return None
    match = TEAM_KEY_RE.match(item.key)
    if match:
        ident, name, sender = match["id"], match["name"], senders.login(int(match["expiry"]))
    else:
        parts = item.key.split("/")
        ident, name = (parts[-2] if len(parts) > 3 else ""), parts[-1]
        sender = f"onbekend: niet via de site opgeslagen ({item.key[:120]})"
    return TeamFile(ident, name, sender, answer["LastModified"], answer["Body"].read(),
                    f"s3://{bucket}/{item.key}")


def collect(s3, bucket: str, store: Callable[[Received], object], senders: Senders, *,
            team: bool = False) -> int:
    """Hand every waiting submission to `store`, then delete it; returns how many were stored.

    `team`: the staff postvak's files instead (`team_file`, for postvak.team.intake_file).
    """
    stored = 0
    make = team_file if team else envelope
    try:
        items = waiting(s3, bucket, TEAM_SPOOL if team else SPOOL)
        if items and not senders.registry.path.exists():  # every sender would be unknown
            raise CollectError(Problem(
                str(senders.registry.path), None, "het register van uitgegeven inloglinks "
                f"ontbreekt, dus niemand kan als afzender worden herkend; de {len(items)} "
                "inzending(en) blijven in S3 wachten",
                "haal het postvak op met de private map waarin de brieven zijn gemaakt "
                "(SCHOOLPLEIN_PRIVATE), of zet de reservekopie van cloudfront-links.json terug"))
        for item in items:
            received = make(s3, bucket, item, senders)
            if received is None:
                continue
            store(received)
            s3.delete_object(Bucket=bucket, Key=item.key)
            stored += 1
    except (BotoCoreError, ClientError) as exc:
        raise CollectError(Problem(
            f"s3://{bucket}/{SPOOL}", None,
            f"het postvak kon niet (helemaal) worden opgehaald ({type(exc).__name__}: {exc}); "
            f"{stored} inzending(en) zijn opgehaald en opgeslagen, de rest wacht nog in S3",
            "controleer de internetverbinding, SCHOOLPLEIN_S3_BUCKET en de AWS-sleutels "
            "(nodig: s3:ListBucket, s3:GetObject en s3:DeleteObject op .postvak/) en haal "
            "opnieuw op")) from exc
    return stored

