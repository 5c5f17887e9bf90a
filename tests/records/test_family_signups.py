"""Sign-ups, bookings and leave requests in a family's inzage, and gone after vergeet.

Every submission has a fixed receipt time and every round a fixed clock: nothing depends on
today (the demo's deadlines lie after these moments)."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from datetime import datetime, timedelta

import postvak
from plugins import signups as declared
from plugins.calendar_feeds import read_state as feed_state
from plugins.roster import load_roster
from plugins.settings import SCHOOL_TZ, load_settings
from postvak import Received, intake, leave
from records import family_data
from tasks.common import build
from tests.helpers import ROOT, demo_school

FAMILY = "68amruh9btpfys3dk9wr"  # Marieke and Youssef de Vries: Zoë (groep 3), Ömer (groep 5/6)
OTHER = "53b6w76x3k6x62bawk82"  # Anouk Bakker: Sem B. (groep 3)
TRIP = "groep/groep-3/2026-10-20-hulpouders-gezocht"
TALKS = "groep/groep-3/2026-12-01-oudergesprekken"
AT = datetime(2026, 12, 8, 9, 0, tzinfo=SCHOOL_TZ)


def send(cfg, family, login, body, n) -> str:
    ident = str(uuid.uuid4())
    data = json.dumps({"v": 1, **body}, ensure_ascii=False).encode()
    intake(Received(ident, family, login, AT + timedelta(seconds=n), data,
                    f"spool:/srv/{ident}.json"), cfg.private)
    return ident


def rows(files, name) -> list[dict]:
    return list(csv.DictReader(io.StringIO(files[name].decode())))


def test_inzage_holds_the_familys_sign_ups_and_leave_and_vergeet_erases_them(tmp_path):
    env = demo_school(tmp_path)
    cfg = load_settings(ROOT, env)
    roster = load_roster(cfg.roster)
    activities = declared.load(cfg.content, roster)
    ref = {key: activities[key].ref for key in (TRIP, TALKS)}
    slots = activities[TALKS].slots
    marieke, anouk = "marieke.devries1@example.nl", "anouk.bakker3@example.nl"
    send(cfg, FAMILY, marieke, {"soort": "hulpouder", "activiteit": ref[TRIP],
                                "actie": "aanmelden"}, 1)
    send(cfg, FAMILY, marieke, {"soort": "gesprek", "activiteit": ref[TALKS], "kind": "zoe-devries",
                                "actie": "boeken", "moment": slots[0].id}, 2)
    send(cfg, OTHER, anouk, {"soort": "gesprek", "activiteit": ref[TALKS], "kind": "sem-bakker",
                             "actie": "boeken", "moment": slots[1].id}, 3)
    send(cfg, OTHER, anouk, {"soort": "hulpouder", "activiteit": ref[TRIP],
                             "actie": "aanmelden"}, 4)
    asked = send(cfg, FAMILY, marieke, {
        "soort": "verlof", "kind": "zoe-devries", "van": "2027-03-01", "tot": "2027-03-05",
        "reden": "vakantie", "werkgeversverklaring": True, "toelichting": "Seizoenswerk"}, 5)
    pv = postvak.PostvakSettings.from_settings(cfg)
    summary = postvak.process(pv, now=AT + timedelta(hours=1))
    assert len(summary.applied) == 5, summary.text()
    leave.decide(pv, asked, "toegekend", "Ingrid Hoekstra", "Verklaring ontvangen",
                 now=AT + timedelta(hours=2))
    postvak.export_threads(cfg.private, roster)  # as a round does: the state the build reads
    sections = build(cfg)["SCHOOLPLEIN_SECTIONS"]  # the family's own feed events are kept
    own = [u for u in feed_state(cfg.private)["events"] if u.startswith(f"own-{FAMILY}/")]
    assert len(own) == 2  # Zoë's talk and Marieke's place on the trip (it has a date)

    files = {n: z for n, z in _zip(family_data.export(cfg, FAMILY, sections)).items()}
    letter = files["brief.txt"].decode()
    assert "inschrijvingen.csv" in letter and "verlof.csv" in letter
    assert "bewaart die nog niet" not in letter
    signed = rows(files, "inschrijvingen.csv")
    assert [(r["soort"], r["ouder"], r["kind"], r["status"]) for r in signed] == [
        ("hulpouder", "Marieke de Vries", "", "aangemeld"),
        ("gesprek", "", "Zoë", f"geboekt: {declared.short_moment(slots[0].start)}")]
    assert all(r["wat"].startswith(("Hulpouders Groep 3", "Oudergesprekken Groep 3"))
               for r in signed)
    [asked_row] = rows(files, "verlof.csv")
    assert asked_row["kind"] == "Zoë" and asked_row["van"] == "2027-03-01"
    assert asked_row["besluit"] == "toegekend" and asked_row["door"] == "Ingrid Hoekstra"
    assert asked_row["notitie"] == "Verklaring ontvangen" and asked_row["toelichting"] == \
        "Seizoenswerk"
    everything = b"\n".join(files.values()).decode("utf-8", errors="replace")
    assert "Anouk" not in everything and "Sem" not in everything

    for name, column in (("ouders.csv", 3), ("leerlingen.csv", 0)):  # the family leaves
        path = cfg.roster / name
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(line for line in lines if line.split(",")[column] not in (
            FAMILY, "zoe-devries", "omer-devries")), encoding="utf-8")
    counts = family_data.forget(cfg, FAMILY, now=True)
    assert counts["inschrijvingen"] >= 3
    state = declared.read_state(cfg.private)
    text = json.dumps(state)
    assert "ouder-001" not in text and "zoe-devries" not in text and FAMILY not in text
    assert "sem-bakker" in text and "ouder-003" in text  # the other family's stay
    audit = (cfg.private / "postvak" / leave.AUDIT).read_text(encoding="utf-8")
    assert "zoe-devries" not in audit and "Ingrid" not in audit
    assert not [u for u in feed_state(cfg.private)["events"] if FAMILY in u]
    assert [u for u in feed_state(cfg.private)["events"] if u.startswith(f"own-{OTHER}/")]
    kept = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                     for p in cfg.private.rglob("*") if p.is_file())
    for trace in ("zoe-devries", "Seizoenswerk", "Verklaring ontvangen", "ouder-001"):
        assert trace not in kept, trace


def _zip(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}
