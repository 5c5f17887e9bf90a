"""A consent change rewrites one cell of leerlingen.csv and keeps every other byte."""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.errors import SchoolpleinError
from plugins.roster import Consent, load_roster
from postvak.consent import write_consent
from postvak.csvedit import CsvEditError, set_cell, tokenize
from tests.helpers import ROOT

from .conftest import write_school

SPREADSHEET = (
    "\ufeffgroep,Voornaam,id,Achternaam,beeldgebruik,gezinnen\r\n"
    'groep-3,"Zoë","zoe-devries","de Vries, van",,\r\n'
    'groep-3,Sem,sem-kok,Kok,"groep",\r\n'
    '\r\n'
    'groep-5-6,"Ömer ""Omi""",omer-devries,de Vries,school,'
).encode("utf-8")


def test_one_cell_changes_bom_crlf_quoting_and_column_order_stay(tmp_path):
    path = tmp_path / "leerlingen.csv"
    path.write_bytes(SPREADSHEET)
    os.chmod(path, 0o640)
    assert set_cell(path, "id", "zoe-devries", "beeldgebruik", "geen")
    assert set_cell(path, "id", "sem-kok", "beeldgebruik", "school")
    assert set_cell(path, "id", "omer-devries", "beeldgebruik", "groep")
    expected = (SPREADSHEET.replace(b'van",,\r\n', b'van",geen,\r\n')
                .replace(b'"groep",\r\n', b'"school",\r\n')
                .replace(b"Vries,school,", b"Vries,groep,"))
    assert path.read_bytes() == expected
    assert path.stat().st_mode & 0o777 == 0o640
    assert not set_cell(path, "id", "zoe-devries", "beeldgebruik", "geen")  # already so
    assert list(tmp_path.iterdir()) == [path]  # no temp files left


def test_the_demo_roster_changes_by_one_cell_and_still_loads(tmp_path):
    shutil.copytree(ROOT / "roster", tmp_path / "roster")
    before = (tmp_path / "roster/leerlingen.csv").read_bytes()
    assert write_consent(tmp_path / "roster", "sem-kok", Consent.NONE)
    after = (tmp_path / "roster/leerlingen.csv").read_bytes()
    assert before.replace(b"sem-kok,Sem,Kok,groep-3,\n", b"sem-kok,Sem,Kok,groep-3,geen\n") == after
    assert load_roster(tmp_path / "roster").children["sem-kok"].consent is Consent.NONE


def test_what_it_cannot_read_safely_is_refused_with_file_and_fix(tmp_path):
    roster = write_school(tmp_path / "roster")
    path = roster / "leerlingen.csv"
    path.write_text(path.read_text() + 'x,"Kapot"aanhalingsteken,y,groep-3,,\n')
    before = path.read_bytes()
    with pytest.raises(SchoolpleinError) as info:
        write_consent(roster, "zoe-devries", Consent.NONE)
    problem = info.value.problems[0]
    assert problem.file.endswith("leerlingen.csv") and "zoe-devries" in problem.message
    assert "beeldgebruik: geen" in problem.fix
    assert path.read_bytes() == before


def test_an_unknown_or_doubled_child_is_refused(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("id,beeldgebruik\na,\na,\n")
    with pytest.raises(CsvEditError):
        set_cell(path, "id", "a", "beeldgebruik", "geen")
    with pytest.raises(CsvEditError):
        set_cell(path, "id", "b", "beeldgebruik", "geen")


cell_text = st.text(alphabet=st.sampled_from(list('ab ,"\néë;Ω\r')), max_size=6)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(cell_text, cell_text), min_size=1, max_size=6),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
       newline=st.sampled_from(["\n", "\r\n"]), bom=st.booleans(), trailing=st.booleans(),
       pick=st.integers(0, 5), value=st.sampled_from(["geen", "groep", "school"]))
def test_any_spreadsheet_export_changes_in_exactly_one_cell(tmp_path, rows, quoting, newline, bom,
                                                            trailing, pick, value):
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=quoting, lineterminator=newline)
    writer.writerow(["naam", "id", "beeldgebruik", "opmerking"])
    writer.writerows([a, f"kind-{i}", "", b] for i, (a, b) in enumerate(rows))
    text = buffer.getvalue() if trailing else buffer.getvalue()[:-len(newline)]
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    path = Path(tmp_path) / f"t-{abs(hash(data))}.csv"
    path.write_bytes(data)
    target = pick % len(rows)
    before = list(csv.reader(io.StringIO(text, newline="")))
    assert set_cell(path, "id", f"kind-{target}", "beeldgebruik", value)
    after = path.read_bytes()
    # the bytes differ only where that cell was
    row = next(i for i, r in enumerate(tokenize(text)) if len(r) > 1 and r[1].value == f"kind-{target}")
    cell = tokenize(text)[row][2]
    prefix = len(b"\xef\xbb\xbf" if bom else b"") + len(text[:cell.start].encode())
    new = (f'"{value}"' if cell.quoted else value).encode()
    assert after == data[:prefix] + new + data[prefix + len(text[cell.start:cell.end].encode()):]
    before[row][2] = value
    assert list(csv.reader(io.StringIO(after.decode("utf-8-sig"), newline=""))) == before
