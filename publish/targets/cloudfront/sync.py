"""Sync the build output to S3 by content, not by timestamp.

A clean rebuild rewrites every file with a new mtime; comparing content
hashes means only what really changed is uploaded, so an unchanged publish
makes zero writes. Stale objects are deleted: a revoked photo must disappear.

The plan is a pure function of (local files, remote listing, privacy-dropped
keys, paths an earlier publish left to invalidate); applying it follows the
safety order:

0. every path this publish will invalidate is written to the invalidation
   journal (publish.targets.cloudfront.journal) before anything is deleted or
   overwritten, so an interrupted publish never forgets one;
1. privacy deletes: photos gone from the output (consent revoked, photo
   dropped, post removed). No current page links them, so deleting first is
   always safe and closes the privacy gap as early as possible;
2. at once an invalidation of exactly those paths, together with whatever an
   earlier, interrupted publish left in the journal: withdrawn photos leave
   the CloudFront edge before any page is uploaded;
3. uploads: photos and assets first, pages and feeds last, so a new page never
   links a file that is not there yet;
4. other deletes (old pages and assets), and unchanged objects whose
   Content-Type or Cache-Control rules changed since the bucket was last
   stamped (publish.headers; a server-side copy, no upload);
5. one CloudFront invalidation batch for the changed and other deleted objects
   (`/*` after a restamp: the edge still holds the old headers).
A journal entry is cleared only after CloudFront accepted an invalidation
covering it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from plugins.errors import Problem, SchoolpleinError
from plugins.sections import SectionMap
from publish.headers import cache_control

from .journal import InvalidationJournal
from .manifest import BucketManifest
from .objects import content_type, header_rules, is_page, is_photo, is_submission
from .uploads import upload_problems

MULTIPART_THRESHOLD = 64 * 1024 * 1024
SECTION_WILDCARD_AFTER = 15  # more changed paths in one section: invalidate `/<prefix>*`
EVERYTHING_AFTER = 1000  # more paths in total: invalidate `/*`
# CloudFront accepts at most 15 wildcard paths in progress at a time: more, and send `/*`.
MAX_WILDCARDS = 15


class PublishError(SchoolpleinError):
    """Publishing stopped; the message says what was already done and what to do.

    `header` is printed above the problems (tasks.py) instead of the build's
    "nothing was published": part of a publish may already be online.
    """

    header = "Publiceren onderbroken."


@dataclass(frozen=True)
class LocalFile:
    key: str
    path: Path
    size: int
    md5: str
    sha256: str
    identity: tuple[int, ...] = ()  # (device, inode, size, mtime_ns) when it was hashed


@dataclass(frozen=True)
class RemoteObject:
    key: str
    size: int
    etag: str  # without quotes; MD5 for single-part uploads (SSE-S3)
    sha256: str | None = None  # our own metadata; read only for multipart objects
    last_modified: float = 0.0  # epoch seconds (for the benchmark's `aws s3 sync` rule)


@dataclass(frozen=True)
class Plan:
    privacy_deletes: tuple[str, ...]
    uploads: tuple[str, ...]
    deletes: tuple[str, ...]
    invalidations: tuple[str, ...]  # the final batch, after uploads and deletes
    upload_bytes: int = 0
    unchanged: int = 0
    new_keys: frozenset[str] = field(default_factory=frozenset)
    pending: tuple[str, ...] = ()  # left in the journal by an earlier publish
    first_invalidations: tuple[str, ...] = ()  # privacy deletes + pending, right after deleting
    restamps: tuple[str, ...] = ()  # unchanged objects that get today's headers (copy in place)

    @property
    def is_empty(self) -> bool:
        return not (self.privacy_deletes or self.uploads or self.deletes or self.pending
                    or self.restamps)

    def steps(self) -> list[tuple[str, str]]:
        """(action, key or path) in the order they are applied."""
        return ([("privacy-delete", k) for k in self.privacy_deletes]
                + [("invalidate-first", p) for p in self.first_invalidations]
                + [("upload", k) for k in self.uploads]
                + [("delete", k) for k in self.deletes]
                + [("restamp", k) for k in self.restamps]
                + [("invalidate", p) for p in self.invalidations])

    def describe(self) -> str:
        """Dutch summary for the admin (dry run and end of publish)."""
        lines = [
            f"Te uploaden: {len(self.uploads)} bestanden ({_human(self.upload_bytes)}); "
            f"ongewijzigd: {self.unchanged}.",
            f"Ingetrokken foto's verwijderen (eerst): {len(self.privacy_deletes)}.",
            f"Oude bestanden verwijderen: {len(self.deletes)}.",
            *([f"Kopteksten (Cache-Control, Content-Type) bijwerken van {len(self.restamps)} "
               "ongewijzigde bestanden: de regels zijn veranderd sinds de vorige publicatie."]
              if self.restamps else []),
            f"CloudFront-cache vernieuwen: {len(self.first_invalidations)} pad(en) direct na het "
            f"verwijderen, {len(self.invalidations)} aan het eind.",
        ]
        if self.pending:
            lines.append(f"Nog te vernieuwen na een eerdere, onderbroken publicatie (journaal): "
                         f"{len(self.pending)} pad(en); deze publicatie doet dat eerst.")
            lines.extend(f"  {'journaal':15} {p}" for p in self.pending)
        for action, key in self.steps():
            lines.append(f"  {action:15} {key}")
        return "\n".join(lines)


def _human(size: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size} B"


def scan_output(output_dir: Path | str, manifest: BucketManifest | None = None
                ) -> dict[str, LocalFile]:
    """Every file in the output with its hashes; only the kinds the build writes.

    Anything else (a symlink, a hidden file, `prod.env`, `id_rsa`...) stops the
    publish before any request: see publish/cloudfront_uploads.py. A file that is
    the same file (device, inode, size, mtime) as when the `manifest` recorded its
    hashes is not read again.
    """
    root = Path(output_dir)
    if not root.is_dir():
        raise PublishError(Problem(str(root), None, "de map met de gebouwde site bestaat niet; "
                                   "er is nog niets gepubliceerd",
                                   "bouw eerst de site: invoke build"))
    allowed, refused = upload_problems(root)
    if refused:
        raise PublishError(refused)
    files: dict[str, LocalFile] = {}
    for key, path in allowed:
        st = os.stat(path)
        identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        known = manifest.hashes(key, list(identity)) if manifest is not None else None
        if known is None:
            data = path.read_bytes()
            known = hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()
        files[key] = LocalFile(key, path, st.st_size, *known, identity=identity)
    return files


def list_bucket(s3, bucket: str) -> dict[str, RemoteObject]:
    """The site's objects; multipart objects get one HEAD to read their sha256.

    Parents' submissions waiting in the postvak's spool are not the site's:
    a publish must never delete them (only `collect` does, once stored).
    """
    remote: dict[str, RemoteObject] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            key, etag = obj["Key"], obj["ETag"].strip('"')
            if is_submission(key):
                continue
            sha = None
            if "-" in etag:
                sha = s3.head_object(Bucket=bucket, Key=key).get("Metadata", {}).get("sha256")
            remote[key] = RemoteObject(key, obj["Size"], etag, sha,
                                       obj["LastModified"].timestamp())
    return remote


def _known_objects(manifest: BucketManifest, bucket: str) -> dict[str, RemoteObject] | None:
    """The bucket as the last complete publish left it (None: unknown, list it)."""
    objects = manifest.objects(bucket)
    if objects is None:
        return None
    return {key: RemoteObject(key, size, md5, sha) for key, (size, md5, sha) in objects.items()}


def is_unchanged(local: LocalFile, remote: RemoteObject) -> bool:
    if remote.sha256:
        return remote.sha256 == local.sha256
    if "-" in remote.etag:
        return False  # multipart without our metadata: cannot tell, upload again
    return remote.etag == local.md5 and remote.size == local.size


def _upload_order(key: str) -> tuple[int, str]:
    return (0 if is_photo(key) else 2 if is_page(key) else 1, key)


def cloudfront_path(key: str) -> str:
    return quote("/" + key, safe="/-_.~")


def _batch(paths: Iterable[str], max_wildcards: int = MAX_WILDCARDS) -> tuple[str, ...]:
    """One invalidation batch; `/*` when CloudFront's limits would refuse it."""
    paths = set(paths)
    if len(paths) > EVERYTHING_AFTER or sum("*" in p for p in paths) > max_wildcards:
        return ("/*",)
    return tuple(sorted(paths))


def invalidation_paths(keys: Iterable[str], section_map: SectionMap,
                       max_wildcards: int = MAX_WILDCARDS) -> tuple[str, ...]:
    """CloudFront paths for changed keys, collapsed per section and overall.

    A section with more than SECTION_WILDCARD_AFTER changed paths becomes `<prefix>*`;
    more than `max_wildcards` such wildcards (CloudFront's limit, shared with the
    first batch) or more than EVERYTHING_AFTER paths become a single `/*`.
    """
    by_section: dict[str, set[str]] = defaultdict(set)
    for key in keys:
        by_section[section_map.for_path("/" + key).prefix].add(cloudfront_path(key))
    paths: set[str] = set()
    for prefix, members in by_section.items():
        paths |= {prefix + "*"} if len(members) > SECTION_WILDCARD_AFTER else members
    return _batch(paths, max_wildcards)


def plan_sync(local: Mapping[str, LocalFile], remote: Mapping[str, RemoteObject],
              section_map: SectionMap, privacy_dropped: Iterable[str] = (),
              pending: Iterable[str] = (), restamp: bool = False) -> Plan:
    """Decide what to upload, delete and invalidate. Pure: no I/O.

    `pending`: journal paths an earlier publish did not get invalidated; they go
    into the first batch, with exactly the privacy-deleted paths, even when the
    bucket no longer differs. `restamp`: the objects in the bucket may carry other
    headers than today's rules give (publish.headers): every unchanged one is stamped again.
    """
    dropped = set(privacy_dropped)
    pending = tuple(dict.fromkeys(pending))
    uploads = sorted((k for k, f in local.items()
                      if k not in remote or not is_unchanged(f, remote[k])), key=_upload_order)
    stale = sorted(k for k in remote if k not in local)
    privacy = tuple(k for k in stale if is_photo(k) or k in dropped)
    other = tuple(k for k in stale if k not in frozenset(privacy))
    changed = [k for k in uploads if k in remote]
    first = _batch([*pending, *map(cloudfront_path, privacy)]) if pending or privacy else ()
    wildcards_left = max(1, MAX_WILDCARDS - sum("*" in p for p in first))
    restamps = tuple(sorted(k for k in local if k in remote and k not in uploads)) if restamp \
        else ()
    final = (("/*",) if restamps else
             invalidation_paths([*changed, *other], section_map, wildcards_left))
    return Plan(
        privacy_deletes=privacy,
        uploads=tuple(uploads),
        deletes=other,
        invalidations=final,  # after uploading: even a path the first batch already had
        upload_bytes=sum(local[k].size for k in uploads),
        unchanged=len(local) - len(uploads),
        new_keys=frozenset(k for k in uploads if k not in remote),
        pending=pending,
        first_invalidations=first,
        restamps=restamps,
    )


PHASES = {
    "journal": "het vastleggen van de te vernieuwen paden",
    "journal-rest": "het vastleggen van de te vernieuwen paden",
    "privacy": "het verwijderen van ingetrokken foto's",
    "invalidate-first": "het vernieuwen van de CloudFront-cache voor ingetrokken foto's",
    "upload": "het uploaden",
    "delete": "het opruimen van oude bestanden",
    "restamp": "het bijwerken van de kopteksten van ongewijzigde bestanden",
    "invalidate": "het vernieuwen van de CloudFront-cache",
}


def _delete(s3, bucket: str, keys: tuple[str, ...]) -> None:
    for start in range(0, len(keys), 1000):
        chunk = keys[start:start + 1000]
        answer = s3.delete_objects(Bucket=bucket, Delete={
            "Objects": [{"Key": k} for k in chunk], "Quiet": True})
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise ClientError({"Error": {"Code": first.get("Code", "DeleteFailed"),
                                         "Message": f"{first.get('Key')}: "
                                                    f"{first.get('Message', '')}"}},
                              "DeleteObjects")


def _object_headers(file: LocalFile) -> dict:
    return {"ContentType": content_type(file.key), "CacheControl": cache_control(file.key),
            "Metadata": {"sha256": file.sha256}}


def _restamp(s3, bucket: str, file: LocalFile) -> None:
    """Today's headers on an unchanged object: a copy onto itself, no upload."""
    s3.copy_object(Bucket=bucket, Key=file.key, CopySource={"Bucket": bucket, "Key": file.key},
                   MetadataDirective="REPLACE", **_object_headers(file))


def _upload(s3, bucket: str, file: LocalFile) -> None:
    extra = _object_headers(file)
    if file.size >= MULTIPART_THRESHOLD:
        from boto3.s3.transfer import TransferConfig

        s3.upload_file(str(file.path), bucket, file.key, ExtraArgs=extra,
                       Config=TransferConfig(multipart_threshold=MULTIPART_THRESHOLD))
        return
    with file.path.open("rb") as body:
        s3.put_object(Bucket=bucket, Key=file.key, Body=body, ContentMD5=_b64md5(file.md5),
                      **extra)


def _b64md5(hexdigest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hexdigest)).decode()


@dataclass(frozen=True)
class Applied:
    """What CloudFront accepted: invalidation ids (empty when nothing was sent)."""

    first_invalidation: str = ""
    final_invalidation: str = ""


def _invalidate(cloudfront, distribution_id: str, paths: tuple[str, ...]) -> str:
    answer = cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch={
        "Paths": {"Quantity": len(paths), "Items": list(paths)},
        "CallerReference": f"schoolplein-{time.time_ns()}",
    })
    return ((answer or {}).get("Invalidation") or {}).get("Id", "?")


def apply_plan(plan: Plan, local: Mapping[str, LocalFile], s3, bucket: str, *,
               cloudfront=None, distribution_id: str = "",
               on_upload: Callable[[str, int], None] | None = None,
               progress: bool | None = None, journal: InvalidationJournal | None = None,
               out: Callable[[str], None] = print) -> Applied:
    """Carry out the plan in its safety order; any AWS failure becomes a PublishError.

    With a journal, the paths of each batch are recorded before the writes they
    cover (privacy paths before the privacy delete, the rest before the first
    upload) and cleared once CloudFront accepted a batch covering them.
    """
    from tqdm import tqdm

    invalidate = cloudfront is not None and bool(distribution_id)
    phase, done, first_id, final_id = "journal", 0, "", ""
    try:
        if journal is not None:
            journal.record(map(cloudfront_path, plan.privacy_deletes), "ingetrokken foto")
        phase = "privacy"
        _delete(s3, bucket, plan.privacy_deletes)
        if plan.privacy_deletes:
            out(f"Ingetrokken foto's verwijderd: {len(plan.privacy_deletes)} bestand(en).\n"
                + "\n".join(f"  {k}" for k in plan.privacy_deletes))
        phase = "invalidate-first"
        if plan.first_invalidations and invalidate:
            first_id = _invalidate(cloudfront, distribution_id, plan.first_invalidations)
            if journal is not None:
                journal.clear(plan.first_invalidations)
            out(f"CloudFront heeft de invalidatie van {len(plan.first_invalidations)} pad(en) "
                f"aangenomen (id {first_id}): ingetrokken foto's verdwijnen nu ook uit de cache.")
        phase = "journal-rest"
        if journal is not None:  # after the first batch: its clearing must not drop these
            journal.record(plan.invalidations, "gewijzigd of verwijderd")
        phase = "upload"
        with tqdm(total=plan.upload_bytes, unit="B", unit_scale=True, desc="Uploaden",
                  disable=(None if progress is None else not progress), leave=False) as bar:
            for key in plan.uploads:
                _upload(s3, bucket, local[key])
                done += 1
                bar.update(local[key].size)
                if on_upload:
                    on_upload(key, done)
        phase = "delete"
        _delete(s3, bucket, plan.deletes)
        phase = "restamp"
        for key in plan.restamps:
            _restamp(s3, bucket, local[key])
        phase = "invalidate"
        if plan.invalidations and invalidate:
            final_id = _invalidate(cloudfront, distribution_id, plan.invalidations)
            if journal is not None:
                journal.clear(plan.invalidations)
    except (BotoCoreError, ClientError, OSError) as exc:
        raise _interrupted(phase, exc, done, len(plan.uploads), plan, journal) from exc
    return Applied(first_id, final_id)


def progress_report(phase: str, done: int, total: int, plan: Plan,
                    journal: InvalidationJournal | None = None) -> str:
    """What was already done when `phase` failed, in Dutch, for the admin."""
    state = f"{done} van {total} bestanden waren al geüpload"
    if phase in ("journal", "privacy"):
        state += "; ingetrokken foto's staan mogelijk nog online: publiceer zo snel mogelijk opnieuw"
    else:
        if plan.privacy_deletes:
            state += f"; de {len(plan.privacy_deletes)} ingetrokken foto('s) zijn al verwijderd"
        if phase == "invalidate-first":
            state += (", maar CloudFront heeft hun invalidatie nog niet aangenomen: ouders kunnen "
                      "ze nog uit de cache zien; publiceer zo snel mogelijk opnieuw")
        elif phase == "delete":
            state += "; oude bestanden zijn nog niet (allemaal) verwijderd"
        elif phase == "restamp":
            state += "; nog niet alle bestanden hebben de nieuwe kopteksten"
        elif phase == "invalidate":
            state += ("; oude bestanden zijn verwijderd, alleen de CloudFront-cache is niet "
                      "vernieuwd (ouders kunnen nog even een oude versie zien)")
    if journal is not None and journal.pending():
        state += (f"; de nog te vernieuwen paden staan in {journal.path} en de volgende "
                  "publicatie stuurt ze eerst naar CloudFront")
    return state


def _interrupted(phase: str, exc: Exception, done: int, total: int, plan: Plan,
                 journal: InvalidationJournal | None = None) -> PublishError:
    state = progress_report(phase, done, total, plan, journal)
    cause = ("een bestand kon niet gelezen of geschreven worden" if isinstance(exc, OSError)
             else "S3 of CloudFront was niet bereikbaar of weigerde")
    return PublishError(Problem(
        "publiceren naar S3/CloudFront", None,
        f"gestopt tijdens {PHASES[phase]}: {cause} ({type(exc).__name__}: {exc}). {state}.",
        "controleer de internetverbinding en de AWS-instellingen in .env en start "
        "'invoke publish --target cloudfront' opnieuw. Opnieuw publiceren is veilig: "
        "alleen wat ontbreekt of anders is wordt geüpload, niets wordt dubbel gedaan.",
    ))


def sync(output_dir: Path | str, s3, bucket: str, section_map: SectionMap, *,
         cloudfront=None, distribution_id: str = "", dry_run: bool = False,
         privacy_dropped: Iterable[str] = (), on_upload: Callable[[str, int], None] | None = None,
         progress: bool | None = None, out: Callable[[str], None] = print,
         journal: InvalidationJournal | None = None, stamp: Path | None = None,
         manifest: BucketManifest | None = None) -> Plan:
    """Plan and (unless dry_run) apply a publish; returns the plan.

    `journal`: where paths to invalidate are kept across interrupted publishes
    (publish_cloudfront passes private/cloudfront-invalidations.json). `stamp`:
    where the header rules the bucket's objects carry are recorded
    (private/cloudfront-headers.json); when they are not today's (or unknown),
    every unchanged object gets today's headers. `manifest`: what the last complete
    publish left in the bucket (publish.targets.cloudfront.manifest), instead of
    listing it, and the hashes of the files it sent.
    """
    local = scan_output(output_dir, manifest)
    try:
        remote = _known_objects(manifest, bucket) if manifest is not None else None
        listed = remote is None
        if listed:
            remote = list_bucket(s3, bucket)
    except (BotoCoreError, ClientError) as exc:
        raise PublishError(Problem(
            f"s3://{bucket}", None,
            f"kan de inhoud van de bucket niet lezen ({type(exc).__name__}: {exc})",
            "controleer de internetverbinding, SCHOOLPLEIN_S3_BUCKET en de AWS-sleutels; "
            "er is nog niets veranderd, opnieuw proberen is veilig",
        )) from exc
    pending = [e.path for e in journal.pending()] if journal is not None else []
    rules = {"bucket": bucket, "rules": header_rules()}
    plan = plan_sync(local, remote, section_map, privacy_dropped, pending,
                     restamp=stamp is not None and _read_stamp(stamp) != rules)
    if dry_run:
        out("Proefrun: er wordt niets veranderd.\n" + plan.describe())
        return plan
    if manifest is not None and not plan.is_empty:
        manifest.forget_bucket()  # an interrupted publish leaves the bucket unknown
    applied = apply_plan(plan, local, s3, bucket, cloudfront=cloudfront,
                         distribution_id=distribution_id, on_upload=on_upload,
                         progress=progress, journal=journal, out=out)
    if manifest is not None:
        manifest.record(bucket, {k: [*f.identity, f.md5, f.sha256] for k, f in local.items()},
                        listed=listed)
    if stamp is not None and _read_stamp(stamp) != rules:
        _write_stamp(stamp, rules)
    if plan.restamps:
        out(f"Kopteksten bijgewerkt van {len(plan.restamps)} ongewijzigde bestanden.")
    out(f"Gepubliceerd: {len(plan.uploads)} geüpload, "
        f"{len(plan.privacy_deletes) + len(plan.deletes)} verwijderd, "
        f"{plan.unchanged} ongewijzigd.")
    if applied.final_invalidation:
        out(f"CloudFront-cache vernieuwd: {len(plan.invalidations)} pad(en) "
            f"(invalidatie {applied.final_invalidation}).")
    return plan


def _read_stamp(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # unknown: stamp again (costs one copy per object, never a wrong header)


def _write_stamp(path: Path, rules: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(rules), encoding="utf-8")
    os.replace(tmp, path)
