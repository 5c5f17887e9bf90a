"""The staff postvak's store without a server: complete-only, exactly once, kept when killed."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from plugins import team_pages
from postvak import PostvakSettings
from postvak import team as staff
from postvak.team import TeamFile, TeamSettings
from publish.targets.basic_auth.inbox import collect_team_spool
from tests.helpers import demo_school
from tests.team.conftest import git_init, jpeg

LOGIN = "pieter.bos@kcdematrix.example.nl"  # lk-02, groep 3


@pytest.fixture
def settings(tmp_path):
    demo_school(tmp_path)
    git_init(tmp_path / "content")
    pv = PostvakSettings(private=tmp_path / "private", roster=tmp_path / "roster",
                         site_url="https://ouders.example.nl", sender="noreply@example.nl")
    return TeamSettings(pv, tmp_path / "content")


def hand(settings, ident, name, body, at):
    staff.intake_file(TeamFile(ident, name, LOGIN, at, body, "test"), settings.private)


def manifest(title, data: bytes) -> bytes:
    return json.dumps({"v": 1, "soort": "bericht", "sectie": "group:groep-3", "titel": title,
                       "fotos": [{"bestand": "foto-01.jpg",
                                  "sha256": hashlib.sha256(data).hexdigest(),
                                  "kinderen": ["sem-bakker", "zoe-devries", "jayden-koster"]}]}
                      ).encode()


def test_an_incomplete_submission_waits_then_is_set_aside_with_a_reason(settings):
    now = datetime.now(UTC)
    ident = str(uuid.uuid4())
    hand(settings, ident, "manifest.json", manifest("Half", jpeg(1)), now)
    assert staff.process(settings, now + timedelta(minutes=5)).waiting == [ident]
    done = staff.process(settings, now + timedelta(minutes=31))
    assert done.quarantined == [(ident, "onvolledig: foto-01.jpg kwam niet aan; plaats het "
                                        "bericht opnieuw")]
    status = json.loads(team_pages.status_file(settings.private, "lk-02").read_text())
    assert status["items"][0]["status"] == "niet geplaatst"
    assert status["items"][0]["title"] == "Half"


def test_the_same_submission_twice_is_one_post_and_a_changed_one_is_a_replay(settings):
    now = datetime.now(UTC)
    ident, photo = str(uuid.uuid4()), jpeg(2)
    for _ in range(2):  # a double tap, or a collector that tried again
        hand(settings, ident, "foto-01.jpg", photo, now)
        hand(settings, ident, "manifest.json", manifest("Eén keer", photo), now)
    assert staff.process(settings, now).applied == [ident]
    hand(settings, ident, "manifest.json", manifest("Eén keer", photo), now)  # late, identical
    hand(settings, ident, "manifest.json", manifest("Anders", photo), now)  # same id, changed
    again = staff.process(settings, now)
    assert not again.applied
    assert len(list((settings.content / "groep/groep-3").glob("*-een-keer"))) == 1
    late = [json.loads(p.read_text()) for p in
            (settings.private / "postvak/team/quarantaine").glob("laat-*.json")]
    assert [q["reason"] for q in late] == ["al ontvangen: deze inzending was al verwerkt"]


def test_a_collector_killed_halfway_loses_nothing(settings, tmp_path):
    spool = tmp_path / "spool"
    ident, photo = str(uuid.uuid4()), jpeg(3)
    for n, (name, body) in enumerate((("foto-01.jpg", photo),
                                      ("manifest.json", manifest("Na de stroomstoring", photo)))):
        folder = spool / "team" / LOGIN / f"17330000{n}0.123" / "team/lk-02/postvak" / ident
        folder.mkdir(parents=True)
        (folder / name).write_bytes(body)
    handed = []

    def flaky(received):
        if not handed:
            handed.append(None)
            raise RuntimeError("killed")
        staff.intake_file(received, settings.private)

    with pytest.raises(RuntimeError):
        collect_team_spool(spool, flaky)
    assert collect_team_spool(spool, flaky) == 2
    assert not [p for p in spool.rglob("*") if p.is_file()]
    assert staff.process(settings).applied == [ident]
