"""Write the demo school's roster (Kc de Matrix) to roster/. Fictional names only.

Deterministic (seeded), so the committed CSVs can be regenerated exactly:
    python demo/make_roster.py roster/
Real schools never run this: their pupil administration exports the roster,
and family ids come from `plugins.roster.new_family_id()` (secrets).
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from plugins.roster import write_roster  # noqa: E402

GROUPS = [
    ("groep-1-2", "Groep 1/2"),
    ("groep-3", "Groep 3"),
    ("groep-4", "Groep 4"),
    ("groep-5-6", "Groep 5/6"),
    ("groep-7", "Groep 7"),
    ("groep-8", "Groep 8"),
]
YEAR = "2026-2027"

FIRST = [
    "Noah", "Emma", "Liam", "Julia", "Luuk", "Mila", "Daan", "Tess", "Finn", "Sara",
    "Levi", "Nora", "Mees", "Yara", "Lucas", "Lotte", "Jesse", "Evi", "Bram", "Fenna",
    "Thijs", "Lina", "Milan", "Saar", "Ruben", "Isa", "Teun", "Roos", "Jayden", "Anna",
    "Gijs", "Lieke", "Stijn", "Femke", "Hugo", "Noor", "Jens", "Liv", "Siem", "Floor",
    "Olivier", "Maud", "Tijn", "Ilse", "Ravi", "Amira", "Koen", "Vera", "Joep", "Hanna",
]
LAST = [
    "Jansen", "de Jong", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot",
    "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit",
    "Dijkstra", "Smits", "de Graaf", "van der Meer", "van der Linden", "Kok", "Jacobs",
    "de Haan", "Vermeulen", "van den Heuvel", "van der Veen", "van den Broek", "de Bruijn",
    "Schouten", "van Beek", "Willems", "van Dijk", "Hoekstra", "Maas", "Verhoeven",
    "Koster", "Prins", "Blom", "Huisman",
]
PARENT_FIRST = [
    "Anouk", "Bas", "Charlotte", "Dennis", "Esther", "Frank", "Ingrid", "Jeroen", "Karin",
    "Maarten", "Marieke", "Niels", "Petra", "Rob", "Sanne", "Tim", "Wendy", "Youssef",
    "Fatima", "Mark", "Linda", "Erik", "Sandra", "Paul", "Monique", "Hans", "Judith",
    "Ahmed", "Elif", "Tomáš", "Joyce", "Marco", "Kim", "Rick", "Lisa", "Stefan", "Nadia",
    "Vincent", "Ellen", "Martijn",
]
FAMILY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def main(out: Path) -> None:
    rng = random.Random(20261125)
    out.mkdir(parents=True, exist_ok=True)
    family_id = lambda: "".join(rng.choice(FAMILY_ALPHABET) for _ in range(20))  # noqa: E731

    children: list[list[str]] = []
    parents: list[list[str]] = []
    used_ids: set[str] = set()

    def child(first: str, last: str, group: str, consent: str = "") -> str:
        base = (first.split()[0] + "-" + last.replace(" ", "")).lower()
        base = base.translate(str.maketrans("ëöšéá", "eosea"))
        ident, n = base, 2
        while ident in used_ids:
            ident, n = f"{base}-{n}", n + 1
        used_ids.add(ident)
        children.append([ident, first, last, group, consent])
        return ident

    def family(last: str, kids: list[str], parent_names: list[str]) -> None:
        fam = family_id()
        for i, pname in enumerate(parent_names):
            pid = f"ouder-{len(parents) + 1:03d}"
            local = pname.split()[0].lower().translate(str.maketrans("áš", "as"))
            email = f"{local}.{last.replace(' ', '').lower()}{len(parents) + 1}@example.nl"
            parents.append([pid, pname, email, fam, ";".join(kids)])
            del i

    # The special cases the tests and the demo rely on.
    family("de Vries",
           [child("Zoë", "de Vries", "groep-3"), child("Ömer", "de Vries", "groep-5-6")],
           ["Marieke de Vries", "Youssef de Vries"])  # two groups
    family("Bakker", [child("Sem", "Bakker", "groep-3")], ["Anouk Bakker"])
    family("Kok", [child("Sem", "Kok", "groep-3")], ["Dennis Kok", "Esther Kok"])  # two Sems
    family("Nováková", [child("Eliška", "Nováková", "groep-4", "geen")],
           ["Tomáš Novák", "Petra Nováková"])  # photos opted out
    family("Yilmaz", [child("Elif", "Yilmaz", "groep-7", "groep")], ["Ahmed Yilmaz"])

    slugs = [g for g, _ in GROUPS]
    lasts = [n for n in LAST if n not in {"Bakker", "Kok"}]
    rng.shuffle(lasts)
    firsts = FIRST[:]
    rng.shuffle(firsts)
    for i, last in enumerate(lasts[:35]):
        n_kids = 2 if i % 5 == 0 else 1
        kids = []
        for _ in range(n_kids):
            kids.append(child(firsts[len(children) % len(firsts)], last, rng.choice(slugs)))
        names = rng.sample(PARENT_FIRST, 2 if i % 3 else 1)
        family(last, kids, [f"{n} {last}" for n in names])

    staff = [
        ["mt-01", "Ingrid Hoekstra", "directie@kcdematrix.example.nl", "directie", ""],
        ["mt-02", "Frank Verhoeven", "frank.verhoeven@kcdematrix.example.nl", "directie", ""],
    ]
    teacher_names = ["Juf Anne Smit", "Meester Pieter Bos", "Juf Sophie Vos", "Juf Lisa Kramer",
                     "Meester Rik de Wit", "Juf Iris Maas", "Juf Mirjam Blom"]
    teach = [["groep-1-2"], ["groep-3"], ["groep-4"], ["groep-5-6"], ["groep-7"], ["groep-8"],
             ["groep-1-2", "groep-3"]]
    for i, (name, groups) in enumerate(zip(teacher_names, teach, strict=True), start=1):
        local = ".".join(name.split()[1:]).lower()
        staff.append([f"lk-{i:02d}", name, f"{local}@kcdematrix.example.nl", "leerkracht",
                      ";".join(groups)])

    write_roster(out, groups=[[s, n, YEAR] for s, n in GROUPS], children=children,
                 parents=parents, staff=staff)

if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "roster"))
