"""A family's own data (AVG): the inzage zip holds theirs and nothing more; vergeet erases it."""

from __future__ import annotations

import json
import uuid
import zipfile
from datetime import datetime, timedelta

import pytest

import postvak
from plugins.roster import load_roster
from plugins.settings import SCHOOL_TZ, load_settings
from postvak import Received, intake
from records import family_data, rollover
from tasks.common import build
from tests.helpers import ROOT, demo_school, run_invoke

FAMILY = "68amruh9btpfys3dk9wr"  # Marieke and Youssef de Vries: Zoë (groep 3), Ömer (groep 5/6)
OTHER = "53b6w76x3k6x62bawk82"  # Anouk Bakker: Sem B. (groep 3)
MORNING = datetime.now(SCHOOL_TZ).replace(hour=7, minute=0, second=0, microsecond=0)


def send(cfg, family, login, body, n):
    ident = str(uuid.uuid4())
    data = json.dumps({"v": 1, **body}, ensure_ascii=False).encode()
    intake(Received(ident, family, login, MORNING + timedelta(seconds=n), data,
                    f"spool:/srv/{ident}.json"), cfg.private)


@pytest.fixture
def school(tmp_path):
    env = demo_school(tmp_path)
    cfg = load_settings(ROOT, env)
    day = MORNING.date()
    if day.weekday() >= 5:  # an absence on a school day
        day += timedelta(days=7 - day.weekday())
    absent = {"soort": "afwezigheid", "reden": "ziek", "van": day.isoformat(),
              "tot": day.isoformat()}
    send(cfg, FAMILY, "marieke.devries1@example.nl",
         {**absent, "kind": "zoe-devries", "toelichting": "Koorts sinds gisteravond"}, 1)
    send(cfg, FAMILY, "youssef.devries2@example.nl",
         {"soort": "bericht", "aan": "lk-02", "tekst": "Mag Zoë vrijdag eerder weg?"}, 2)
    send(cfg, FAMILY, "marieke.devries1@example.nl",
         {"soort": "beeldgebruik", "kind": "omer-devries", "keuze": "groep"}, 3)
    send(cfg, OTHER, "anouk.bakker3@example.nl",
         {**absent, "kind": "sem-bakker", "toelichting": "Naar de kaakchirurg"}, 4)
    pv = postvak.PostvakSettings.from_settings(cfg)
    summary = postvak.process(pv)
    assert len(summary.applied) == 4, summary.text()
    postvak.export_threads(cfg.private, load_roster(cfg.roster))
    return tmp_path, env, cfg


def cloudfront_letters(tmp, cfg):
    """Every person's CloudFront letter (and the print file), as the letters task writes them."""
    from publish.targets.cloudfront.links import write_cloudfront_letters
    from publish.targets.cloudfront.settings import CloudFrontSettings
    from publish.targets.cloudfront.signing import generate_key_pair
    from tasks.common import roster_and_sections

    key = tmp / "keys" / "cloudfront.pem"
    generate_key_pair(key)
    settings = CloudFrontSettings.from_env({
        "CLOUDFRONT_DOMAIN": "ouders.example.nl", "CLOUDFRONT_KEY_PAIR_ID": "K2TEST",
        "CLOUDFRONT_PRIVATE_KEY_FILE": str(key), "SCHOOLPLEIN_ACCESS_UNTIL": "2099-07-31",
        "SCHOOLPLEIN_PRIVATE": str(cfg.private)})
    roster, sections = roster_and_sections(cfg)
    write_cloudfront_letters(roster, sections, settings, site_output=cfg.output)
    return settings.letters_dir


def zip_text(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_inzage_holds_the_familys_own_data_and_only_photos_they_can_open(school):
    tmp, env, cfg = school
    built = build(cfg)
    sections = built["SCHOOLPLEIN_SECTIONS"]
    path = family_data.export(cfg, FAMILY, sections)
    files = zip_text(path)
    letter = files["brief.txt"].decode()
    for part in ("rooster/", "beeldgebruik.csv", "gesprek.txt", "berichten-van-school/",
                 "afwezigheid.csv", "fotos/", "inschrijvingen"):
        assert part in letter
    everything = b"\n".join(files.values()).decode("utf-8", errors="replace")
    assert "marieke.devries1@example.nl" in files["rooster/ouders.csv"].decode()
    assert "Koorts sinds gisteravond" in files["afwezigheid.csv"].decode()
    assert "Mag Zoë vrijdag eerder weg?" in files["gesprek.txt"].decode()
    assert "omer-devries" in files["beeldgebruik.csv"].decode()
    roster = load_roster(cfg.roster)
    for other in (p for p in roster.parents.values() if p.family != FAMILY):
        assert other.email not in everything and other.name not in everything
    assert "kaakchirurg" not in everything
    # photos: exactly the published ones with Zoë or Ömer that this family can open today
    audit = json.loads(sorted(cfg.audit.glob("fotos-*.json"))[-1].read_text(encoding="utf-8"))
    parents = set(roster.families[FAMILY].parents)
    expected = set()
    for photo in audit["fotos"]:
        if photo["published"] and {"zoe-devries", "omer-devries"} & set(photo["children"]):
            url = max((u for u in photo["outputs"] if u.endswith(".jpg")),
                      key=lambda u: int(u.rsplit("-", 1)[-1][:-4]))
            if parents & sections.for_path(url).readers:
                expected.add("fotos/" + url.strip("/").replace("/", "_"))
    got = {n for n in files if n.startswith("fotos/")}
    assert got == expected and got
    assert all(n.startswith(("fotos/groep_groep-3_", "fotos/groep_groep-5-6_", "fotos/school_"))
               for n in got)
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_vergeet_erases_a_family_that_left_and_keeps_a_line_without_personal_data(school):
    tmp, env, cfg = school
    roster_before = load_roster(cfg.roster)
    refused = run_invoke("vergeet", FAMILY, env=env)
    assert refused.returncode == 1 and "staat nog in het rooster" in refused.stderr
    assert run_invoke("accounts", env=env).returncode == 0
    cloudfront = cloudfront_letters(tmp, cfg)
    assert {"brief-ouder-001.html", "afdrukken.html"} <= {p.name for p in cloudfront.iterdir()}
    export = tmp / "export"
    rollover.propose(cfg.roster, export)
    for name, column in (("leerlingen.csv", 0), ("ouders.csv", 3)):  # the family leaves
        lines = (export / name).read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not (line.split(",")[column] in (FAMILY,)
                                              or line.startswith(("zoe-devries", "omer-devries")))]
        (export / name).write_text("".join(kept), encoding="utf-8")
    done = run_invoke("schooljaar", "--export", str(export), "--toepassen", env=env)
    assert done.returncode == 0, done.stderr
    assert (cfg.private / "vertrokken" / "gezin" / FAMILY).is_dir()
    refused = run_invoke("vergeet", FAMILY, env=env)
    assert refused.returncode == 1 and "leest nog het archief" in refused.stderr
    # before: an inzage of the family that left still works (their archive and messages)
    files = zip_text(family_data.export(cfg, FAMILY, build(cfg)["SCHOOLPLEIN_SECTIONS"]))
    assert "Mag Zoë vrijdag eerder weg?" in files["gesprek.txt"].decode()
    assert any(n.startswith("rooster/archief-2026-2027/") for n in files)

    done = run_invoke("vergeet", FAMILY, "--nu", env=env)
    assert done.returncode == 0, done.stderr
    kept = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                     for p in [*cfg.private.rglob("*"), *cfg.roster.rglob("*"),
                               *cfg.content.rglob("*"), *cfg.audit.rglob("*")] if p.is_file())
    for trace in (FAMILY, "marieke.devries1@example.nl", "Youssef de Vries", "Koorts sinds",
                  "eerder weg", "ouder-001"):
        assert trace not in kept, trace
    assert "kaakchirurg" in kept  # the other family's record stays
    letters = "".join(p.read_text(encoding="utf-8") for p in (cfg.private / "letters").glob("*"))
    assert "anouk.bakker3@example.nl" in letters and letters.endswith("</html>")  # others' stay
    parents = set(roster_before.families[FAMILY].parents)
    assert not {f"brief-{pid}.html" for pid in parents} & {p.name for p in cloudfront.iterdir()}
    printed = (cloudfront / "afdrukken.html").read_text(encoding="utf-8")
    assert "Anouk Bakker" in printed and printed.count('<section class="letter">') == len(
        list(cloudfront.glob("brief-*.html")))  # the others' pages stay, whole
    erased = (cfg.private / family_data.ERASED_LOG).read_text(encoding="utf-8").splitlines()
    assert len(erased) == 2 and "op verzoek" in erased[1] and "ouders=2" in erased[1]
    assert run_invoke("build", env=env).returncode == 0  # the archive is still a valid year
