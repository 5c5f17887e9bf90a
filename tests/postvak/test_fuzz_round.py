"""Anything a parent can send never stops a round: 1,100 hostile bodies through the whole round.

A seeded generator writes what nginx would store for hostile PUTs (each parent
into their own postvak, as the server allows): random bytes, truncated JSON,
deep nesting, duplicate keys, byte order marks, UTF-16 and Latin-1, overlong
and surrogate UTF-8, NaN and Infinity, huge numbers, lone surrogate escapes,
wrong types, control characters, unknown fields and kinds, another family's
child, bodies over 16 KiB, ids another family already used, names that are no
UUID (also undecodable file names). Valid submissions with hostile but allowed
text (HTML, script, other families' ids, URLs, bidi controls, 2,000 characters)
are mixed in. One `invoke postvak` round (intake, processing, thread export,
build, publish to the nginx target) must succeed, apply every valid
submission, show them on the published family pages, quarantine every hostile
one, and count them the same everywhere.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from postvak.households import recipients
from tests.helpers import demo_school, run_invoke

SEED = 1616
HOSTILE = 1100
HOSTILE_TEXTS = [
    "<script>alert(document.cookie)</script>", "<img src=x onerror=alert(1)>",
    "data:image/png;base64,iVBORw0KGgo=", "https://evil.example/track.png",
    "/groep/groep-7/2026-10-02-kinderboerderij/", "../../private/accounts.csv",
    "\u202egnp.exe", "zero\u200bwidth", "emoji 👨‍👩‍👧‍👦 ok", "{{ 7*7 }} {% raw %}",
    "**vet** _schuin_ [link](javascript:alert(1))", "&amp;&lt;&#x3c;", "regel\nregel\r\n\ttab",
]


def _valid(rng: random.Random, roster, family, parent) -> dict:
    kind = rng.choice(["bericht", "bericht", "afwezigheid", "beeldgebruik"])
    child = rng.choice([c for c in family.children if c in parent.children])
    if kind == "bericht":
        other = rng.choice(sorted(roster.families))  # another family's id, typed as text
        text = " ".join(rng.sample(HOSTILE_TEXTS, 3)) + f" {other} " + uuid.uuid4().hex
        if rng.random() < 0.1:
            text = (text + " x" * 1000)[:2000]
        return {"v": 1, "soort": "bericht", "aan": rng.choice(sorted(recipients(roster, family.id))),
                "tekst": text}
    if kind == "afwezigheid":
        return {"v": 1, "soort": "afwezigheid", "kind": child, "reden": "ziek",
                "toelichting": rng.choice(HOSTILE_TEXTS)}
    return {"v": 1, "soort": "beeldgebruik", "kind": child, "keuze": "geen"}


def _hostile(rng: random.Random, valid: dict, other_child: str) -> bytes:
    """One body that must be refused, made from a valid one by one breaking change."""
    text = json.dumps(valid)
    n = rng.randrange(22)
    if n == 0:
        return rng.randbytes(rng.randrange(300))
    if n == 1:
        return text.encode()[:rng.randrange(1, len(text))]
    if n == 2:
        depth = rng.choice([5, 50, 1000, 5000])
        return ('{"v": 1, "x": ' + "[" * depth + "]" * depth + "}").encode()
    if n == 3:
        return (text[:-1] + ', "v": 1}').encode()
    if n == 4:
        return b"\xef\xbb\xbf" + text.encode()
    if n == 5:
        return text.encode("utf-16")
    if n == 6:
        return text.replace('"v": 1', rng.choice(['"v": NaN', '"v": Infinity', '"v": -Infinity',
                                                   '"v": 1e999', '"v": -0.0', '"v": "1"'])).encode()
    if n == 7:
        return text.replace('"v": 1', '"v": ' + "9" * rng.choice([19, 400, 5000])).encode()
    if n == 8:
        return (text[:-1] + ', "\\ud800x": "\\udfff"}').encode()
    if n == 9:
        key = rng.choice(["kind", "soort", "v"])
        return json.dumps({**valid, key: rng.choice([[1], {"a": 1}, None, True, 3.5])}).encode()
    if n == 10:
        return json.dumps({**valid, rng.choice(["afzender", "\u202e", "\x00", "gezin"]): "x"}).encode()
    if n == 11:
        return json.dumps({"v": 1, "soort": "bericht", "aan": "directie",
                           "tekst": "a" + rng.choice(["\x00", "\x1b[31m", "\x07", "\ud800"]) + "b"}
                          ).encode("utf-8", "surrogatepass")
    if n == 12:
        return json.dumps({"v": 1, "soort": "afwezigheid", "kind": other_child,
                           "reden": "ziek"}).encode()
    if n == 13:
        return (text[:-1] + ', "pad": "' + "x" * (16 * 1024) + '"}').encode()
    if n == 14:
        return json.dumps({"v": 1, "soort": "afwezigheid", "kind": other_child, "reden": "ziek",
                           "van": rng.choice(["2026-02-30", "gisteren", "1900-01-01"])}).encode()
    if n == 15:
        return json.dumps({"v": 1, "soort": "bericht", "aan": "directie", "tekst": "é" * 10},
                          ensure_ascii=False).encode("latin-1")
    if n == 16:
        return b'{"v": 1, "soort": "bericht", "aan": "directie", "tekst": "\xc0\xaf\xed\xa0\x80"}'
    if n == 17:
        return rng.choice([b"[]", b'"tekst"', b"1", b"null", b"true", b"", b" "])
    if n == 18:
        return json.dumps({"v": 1, "soort": rng.choice(["feest", "BERICHT", ""]),
                           "tekst": "x"}).encode()
    if n == 19:
        return json.dumps({"v": 1, "soort": "bericht", "aan": "lk-99", "tekst": "x"}).encode()
    if n == 20:
        return json.dumps({"v": 1, "soort": "bericht", "aan": "directie",
                           "tekst": "x" * 2001}).encode()
    return json.dumps({"v": 1, "soort": "beeldgebruik", "kind": other_child,
                       "keuze": "school"}).encode()


@pytest.fixture
def memory_tmp(tmp_path):
    """A folder in memory when the machine has one: 1,100 fsynced files cost a minute on a
    shared disk and nothing in tmpfs; what is tested is the round's logic, not the disk."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="sp-fuzz-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_round_survives_1100_hostile_bodies_and_applies_every_valid_one(memory_tmp, roster):
    tmp_path = memory_tmp
    env = demo_school(tmp_path, SCHOOLPLEIN_WEB_USER=os.environ.get("USER", "root"))
    assert run_invoke("accounts", env=env).returncode == 0
    spool = tmp_path / "deploy" / "nginx" / "postvak"
    rng = random.Random(SEED)
    parents = sorted(roster.parents.values(), key=lambda p: p.id)
    children = sorted(roster.children)
    clock = 1_762_754_400.0
    valid: dict[str, tuple[str, dict]] = {}  # id -> (family, body)
    hostile = 0

    def store(login: str, family: str, name: str | bytes, body: bytes) -> None:
        nonlocal clock
        clock += rng.uniform(0.001, 2)
        folder = spool / login / f"{clock:.3f}" / "gezin" / family / "postvak"
        folder.mkdir(parents=True, exist_ok=True)
        if isinstance(name, bytes):  # a name no UTF-8 decoder reads
            with open(os.fsencode(folder) + b"/" + name, "wb") as fh:
                fh.write(body)
        else:
            (folder / name).write_bytes(body)

    while hostile < HOSTILE or len(valid) < 40:
        parent = rng.choice(parents)
        family = roster.families[parent.family]
        body = _valid(rng, roster, family, parent)
        ident = str(uuid.uuid4())
        if len(valid) < 40 and rng.random() < 0.05:
            store(parent.email, family.id, f"{ident}.json", json.dumps(body).encode())
            valid[ident] = (family.id, body)
            continue
        if hostile >= HOSTILE:
            continue
        hostile += 1
        other_child = rng.choice([c for c in children if c not in family.children])
        kind = rng.random()
        if kind < 0.03 and valid:  # an id another family already used
            first = rng.choice(sorted(valid))
            others = [p for p in parents if p.family != valid[first][0]]
            someone = rng.choice(others)
            store(someone.email, someone.family, f"{first}.json", json.dumps(
                {"v": 1, "soort": "bericht", "aan": "directie", "tekst": "zelfde id"}).encode())
        elif kind < 0.05:  # not a name the server writes
            name = rng.choice([f"{ident.upper()}.json", "niet-een-uuid.json", b"\xff\xfe.json"])
            store(parent.email, family.id, name, _hostile(rng, body, other_child))
        elif kind < 0.07:  # a login that is no parent of this family
            store(rng.choice(["onbekend@example.nl", "pieter.bos@kcdematrix.example.nl"]),
                  family.id, f"{ident}.json", json.dumps(body).encode())
        else:
            store(parent.email, family.id, f"{ident}.json", _hostile(rng, body, other_child))

    result = run_invoke("postvak", "--target", "nginx", env=env)
    printed = result.stdout + result.stderr
    assert result.returncode == 0, printed[-3000:]
    assert "Traceback" not in printed and "NIET VERWERKT" not in printed, printed[-3000:]
    journal = {p.stem for p in (tmp_path / "private" / "postvak" / "journaal").glob("*.json")}
    assert set(valid) <= journal, sorted(set(valid) - journal)
    assert journal == set(valid)  # nothing hostile got through
    quarantine = list((tmp_path / "private" / "postvak" / "quarantaine").glob("*.json"))
    assert len(quarantine) == hostile
    counted = re.search(r"(\d+) verwerkt, (\d+) in quarantaine \(er staan er nu (\d+) in", printed)
    assert counted and counted.groups() == (str(len(valid)), str(hostile), str(hostile)), printed[:500]
    assert "Gepubliceerd in" in printed
    assert not list(spool.rglob("*.json"))  # everything was taken in
    live = (tmp_path / "deploy" / "nginx" / "current").resolve()
    for ident, (family, body) in valid.items():
        if body["soort"] != "bericht":
            continue
        page = (live / "gezin" / family / "index.html").read_text(encoding="utf-8")
        assert body["tekst"].split()[-1] in page, ident  # its unique word is on the page
        assert "<script>alert" not in page
    again = run_invoke("postvak", "--target", "nginx", env=env)
    assert again.returncode == 0 and "Gepubliceerd" not in again.stdout, again.stdout[-2000:]


def test_the_generator_makes_only_bodies_the_postvak_must_refuse(roster):
    """Each hostile body is refused by the parser or the roster checks (never valid by luck)."""
    from datetime import UTC, datetime

    from postvak.messages import Rejected, parse

    rng = random.Random(SEED)
    parent = roster.parents["ouder-001"]
    family = roster.families[parent.family]
    other = next(c for c in sorted(roster.children) if c not in family.children)
    for _ in range(500):
        body = _hostile(rng, _valid(rng, roster, family, parent), other)
        try:
            got = parse(body, datetime(2026, 11, 10, 7, tzinfo=UTC))
        except Rejected:
            continue
        child = getattr(got, "child", None)
        to = getattr(got, "to", None)
        assert child == other or (to is not None and to not in recipients(roster, family.id)), body
