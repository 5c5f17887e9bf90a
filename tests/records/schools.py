"""Random schools over two years for the rollover's property tests (hypothesis strategies)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from hypothesis import strategies as st

from plugins.roster import FILES, name_parts, new_family_id, write_roster

GROUPS = ("groep-1", "groep-2", "groep-3", "groep-4")
NEXT = ("groep-1", "groep-2", "groep-3", "groep-4", "groep-5")
FIRST = ("Sem", "Noor", "Liam", "Zoë", "Ömer", "Tess")
LAST = ("Bakker", "de Vries", "Kok", "Jansen")
NAMES = frozenset(name_parts(*FIRST, *LAST, "Ouder Test", "Juf Nummer", "Ingrid Hoekstra",
                             "Meester Negen Nieuw"))
# ids that pass the roster's family-id rule (random-looking, no name in them), drawn seeded
family_ids = st.integers(0, 2**32).map(
    lambda seed: new_family_id(NAMES, choice=random.Random(seed).choice))


@st.composite
def school(draw, year: str = "2026-2027"):
    """Rows for write_roster: groups, children, families of 1-2 parents, teachers and directie."""
    n_children = draw(st.integers(1, 10))
    children, parents, child_ids = [], [], []
    for n in range(n_children):
        cid = f"kind-{n}"
        child_ids.append(cid)
        children.append([cid, draw(st.sampled_from(FIRST)), draw(st.sampled_from(LAST)),
                         draw(st.sampled_from(GROUPS)), draw(st.sampled_from(["", "geen",
                                                                              "groep", "school"]))])
    # families: consecutive runs of children
    families, start = [], 0
    while start < n_children:
        size = draw(st.integers(1, 2))
        families.append(child_ids[start:start + size])
        start += size
    used = set()
    for kids in families:
        fam = draw(family_ids.filter(lambda f: f not in used))
        used.add(fam)
        for _ in range(draw(st.integers(1, 2))):
            pid = f"ouder-{len(parents)}"
            parents.append([pid, f"Ouder {pid[-1]} Test", f"{pid}@example.nl", fam, ";".join(kids)])
    staff = [["mt-1", "Ingrid Hoekstra", "mt-1@school.example.nl", "directie", ""]]
    for n, slug in enumerate(GROUPS):
        staff.append([f"lk-{n}", f"Juf Nummer{n}", f"lk-{n}@school.example.nl", "leerkracht", slug])
    return {"groups": [[g, g.replace("-", " ").title(), year] for g in GROUPS],
            "children": children, "parents": parents, "staff": staff}


@st.composite
def export_for(draw, rows, year: str = "2027-2028"):
    """The next year's export: children move or leave, newcomers arrive, teachers change group."""
    children, staying = [], set()
    for cid, first, last, _group, _consent in rows["children"]:
        if draw(st.booleans()) or draw(st.booleans()):  # three in four stay
            children.append([cid, first, last, draw(st.sampled_from(NEXT))])
            staying.add(cid)
    parents = []
    for pid, name, email, _fam, kids in rows["parents"]:
        kept = [k for k in kids.split(";") if k in staying]
        if kept:
            parents.append([pid, name, email, "", ";".join(kept)])  # no gezin: the export's way
    for n in range(draw(st.integers(0, 3))):
        cid = f"nieuw-{n}"
        children.append([cid, draw(st.sampled_from(FIRST)), "Nieuw", draw(st.sampled_from(NEXT))])
        for m in range(draw(st.integers(1, 2))):
            parents.append([f"nieuwe-ouder-{n}-{m}", f"Nieuwe Ouder{n}{m}",
                            f"nieuw{n}{m}@example.nl", "", cid])
    staff = [["mt-1", "Ingrid Hoekstra", "mt-1@school.example.nl", "directie", ""]]
    for n, _ in enumerate(GROUPS):
        staff.append([f"lk-{n}", f"Juf Nummer{n}", f"lk-{n}@school.example.nl", "leerkracht",
                      draw(st.sampled_from(NEXT))])
    staff.append(["lk-9", "Meester Negen Nieuw", "lk-9@school.example.nl", "leerkracht", "groep-5"])
    return {"groups": [[g, g.replace("-", " ").title(), year] for g in NEXT],
            "children": children, "parents": parents, "staff": staff}


def write_export(folder: Path, rows) -> Path:
    """An export as the pupil administration writes it: without beeldgebruik and gezin ids."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, table in rows.items():
        name, columns = FILES[key]
        if key == "children":
            columns = columns[:4]
        with (folder / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(table)
    return folder


def write_school(folder: Path, rows) -> Path:
    return write_roster(folder, **rows)
