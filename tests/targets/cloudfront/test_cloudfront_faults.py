"""S3 goes away in the middle of a publish: clear Dutch error, safe re-run, no revoked photo."""

from __future__ import annotations

import pytest
from cf_helpers import bucket_state, make_tree, output_state

from plugins.errors import SchoolpleinError
from publish.targets.cloudfront.sync import PublishError, sync


def test_interrupted_publish_is_safe_to_rerun(moto, bucket, tmp_path, section_map):
    out = tmp_path / "output"
    files = make_tree(out, section_map)
    s3 = moto.client()
    sync(out, s3, bucket, section_map, progress=False, out=lambda _: None)

    # Consent revoked for two photos, pages and feeds change, a new post with photos.
    revoked = sorted(k for k in files if k.startswith("groep/") and "/fotos/" in k)[:2]
    files = make_tree(out, section_map, marker="v2")
    for key in revoked:
        (out / key).unlink()
    (out / "school/2026-11-01-nieuw/index.html").parent.mkdir(parents=True)
    (out / "school/2026-11-01-nieuw/index.html").write_bytes(b"<!doctype html>nieuw")
    (out / "school/fotos/0123456789abcdef0123-1600.jpg").write_bytes(b"new photo" * 50)

    def stop_after_two(_key: str, done: int) -> None:
        if done == 2:
            moto.stop()

    moto.calls.clear()
    with pytest.raises(PublishError) as failure:
        sync(out, s3, bucket, section_map, progress=False, out=lambda _: None,
             on_upload=stop_after_two)
    message = str(failure.value)
    assert "gestopt tijdens het uploaden" in message
    assert "opnieuw" in message and "veilig" in message
    assert "2 van" in message and "ingetrokken foto('s) zijn al verwijderd" in message

    writes = moto.writes()
    assert writes[0][0] == "DeleteObjects"
    assert {o["Key"] for o in writes[0][1]["Delete"]["Objects"]} == set(revoked)
    assert all(name == "PutObject" for name, _ in writes[1:])

    moto.restart()  # same port, same in-process moto state
    state = bucket_state(s3, bucket)
    assert not set(revoked) & set(state), "a revoked photo is back"
    assert state != output_state(out)  # really half-way

    moto.calls.clear()
    plan = sync(out, s3, bucket, section_map, progress=False, out=lambda _: None)
    assert not plan.privacy_deletes
    assert not set(revoked) & {k for _, p in moto.writes() for k in [p.get("Key")]}
    assert bucket_state(s3, bucket) == output_state(out)


def test_unreachable_before_start_changes_nothing(moto, bucket, tmp_path, section_map):
    out = tmp_path / "output"
    make_tree(out, section_map, groups=0)
    s3 = moto.client()
    moto.stop()
    with pytest.raises(PublishError, match="er is nog niets veranderd"):
        sync(out, s3, bucket, section_map, progress=False, out=lambda _: None)


class FailingAws:
    """S3 and CloudFront stand-in that refuses one operation."""

    def __init__(self, fail: str):
        self.fail = fail

    def _maybe_fail(self, operation: str):
        if operation == self.fail:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "weg"}},
                              operation)

    def delete_objects(self, Bucket, Delete):  # noqa: N803 - boto3 naming
        privacy = any("/fotos/" in o["Key"] for o in Delete["Objects"])
        self._maybe_fail("privacy" if privacy else "delete")
        return {}

    def put_object(self, **kw):
        self._maybe_fail("upload")

    def create_invalidation(self, **kw):
        privacy = any("/fotos/" in p for p in kw["InvalidationBatch"]["Paths"]["Items"])
        self._maybe_fail("invalidate-first" if privacy else "invalidate")
        return {"Invalidation": {"Id": "I1"}}


@pytest.mark.parametrize(("fail", "done", "said"), [
    ("privacy", 0, "ingetrokken foto's staan mogelijk nog online"),
    ("invalidate-first", 0, "CloudFront heeft hun invalidatie nog niet aangenomen"),
    ("upload", 0, "de 1 ingetrokken foto('s) zijn al verwijderd"),
    ("delete", 2, "oude bestanden zijn nog niet (allemaal) verwijderd"),
    ("invalidate", 2, "alleen de CloudFront-cache is niet vernieuwd"),
])
def test_every_interruption_says_what_was_done(tmp_path, section_map, fail, done, said):
    from publish.targets.cloudfront.sync import RemoteObject, apply_plan, plan_sync, scan_output

    out = tmp_path / "output"
    for key in ("index.html", "school/index.html"):
        (out / key).parent.mkdir(parents=True, exist_ok=True)
        (out / key).write_text(key)
    local = scan_output(out)
    remote = {k: RemoteObject(k, 1, "0" * 32) for k in
              ("index.html", "school/fotos/oud-1600.jpg", "school/oud/index.html")}
    plan = plan_sync(local, remote, section_map)
    aws = FailingAws(fail)
    with pytest.raises(PublishError) as failure:
        apply_plan(plan, local, aws, "b", cloudfront=aws, distribution_id="E1", progress=False)
    message = str(failure.value)
    assert f"{done} van 2 bestanden waren al geüpload" in message and said in message
    assert "Opnieuw publiceren is veilig" in message
    assert failure.value.header == PublishError.header == "Publiceren onderbroken."
    assert isinstance(failure.value, SchoolpleinError)
