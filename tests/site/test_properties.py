"""Properties of the section map and the build, for random schools (hypothesis).

Who may read what is derived from the roster alone; these tests state the
school's rules independently and check the derivation, the generated htpasswd
files and a real build against them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.roster import load_roster, write_roster
from plugins.sections import build_section_map
from plugins.site import build
from publish.accounts import Account, login_spellings
from publish.targets.basic_auth import htpasswd_lines
from tests.helpers import family_id

FIRST = ["Sem", "Zoë", "Ömer", "Eliška", "Noah", "Emma", "Daan", "Lotte"]


@st.composite
def schools(draw):
    n_groups = draw(st.integers(1, 4))
    groups = [f"groep-{i}" for i in range(1, n_groups + 1)]
    n_children = draw(st.integers(1, 12))
    children = [(f"kind-{i}", draw(st.sampled_from(FIRST)), f"Achter{i}",
                 draw(st.sampled_from(groups)), draw(st.sampled_from(["", "geen", "groep",
                                                                       "school"])))
                for i in range(n_children)]
    # families: a partition of the children, one or two parents each
    owner = [draw(st.integers(0, n_children - 1)) for _ in range(n_children)]
    families: dict[int, list[str]] = {}
    for (cid, *_), fam in zip(children, owner, strict=True):
        families.setdefault(fam, []).append(cid)
    parents = []
    for fam, kids in families.items():
        fam_id = family_id(fam)
        for p in range(draw(st.integers(1, 2))):
            pid = f"ouder-{fam}-{p}"
            parents.append((pid, f"Ouder {pid}", f"{pid}@example.nl", fam_id, ";".join(kids)))
    teachers = [(f"lk-{i}", f"Juf Nummer{i}", f"lk{i}@example.nl", "leerkracht",
                 ";".join(draw(st.lists(st.sampled_from(groups), min_size=1, max_size=2,
                                        unique=True))))
                for i in range(draw(st.integers(0, 3)))]
    staff = [("mt-1", "Directeur Een", "mt@example.nl", "directie", ""), *teachers]
    return groups, children, parents, staff


def write_school(folder: Path, school) -> Path:
    groups, children, parents, staff = school
    return write_roster(folder, groups=[(g, g.replace("-", " ").title(), "2026") for g in groups],
                        children=children, parents=parents, staff=staff)


@settings(max_examples=60, deadline=None)
@given(schools())
def test_readers_follow_the_school_rules(school):
    with tempfile.TemporaryDirectory() as tmp:
        roster = load_roster(write_school(Path(tmp), school))
    sections = build_section_map(roster, "School")
    teaches = {s.id: set(s.groups) for s in roster.staff.values() if s.role == "leerkracht"}
    for section in sections.protected:
        for person in roster.people():
            pid = person.id
            if pid in roster.parents:
                kids = roster.parents[pid].children
                may = {"school": True,
                       "group": any(roster.children[k].group == section.key for k in kids),
                       "family": roster.parents[pid].family == section.key,
                       "team": False,
                       "staff": False}[section.kind]  # parents never read staff pages
            elif pid in teaches:
                fam_groups = ({roster.children[k].group
                               for k in roster.families[section.key].children}
                              if section.kind == "family" else set())
                may = {"school": True, "group": section.key in teaches[pid],
                       "family": bool(fam_groups & teaches[pid]),
                       "team": section.key in ("team", pid),
                       "staff": section.key in teaches[pid]}[section.kind]
            else:
                may = True  # directie
            assert (pid in section.readers) == may, (pid, section.prefix)
        # the password lines are derived: exactly the readers that have an account
        accounts = {p.id: Account(p.id, p.email, "$2b$04$x", "") for p in roster.people()}
        assert htpasswd_lines(section, accounts) == sorted(
            f"{spelling}:$2b$04$x" for pid in section.readers
            for spelling in login_spellings(roster.person(pid).email))


@st.composite
def schools_with_posts(draw):
    school = draw(schools())
    groups, _, parents, _ = school
    targets = ["school", *[f"groep/{g}" for g in groups],
               *sorted({f"gezin/{p[3]}" for p in parents})]
    posts = draw(st.lists(st.sampled_from(targets), min_size=1, max_size=8))
    return school, posts


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(schools_with_posts())
def test_a_post_is_only_ever_visible_inside_its_own_section(case):
    school, posts = case
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        roster_dir = write_school(tmp / "roster", school)
        content = tmp / "content"
        for i, folder in enumerate(posts):
            target = content / folder
            target.mkdir(parents=True, exist_ok=True)
            (target / f"bericht-{i}.md").write_text(
                f"Title: Geheim{i}x\nDate: 2026-10-{1 + i:02d}\n\nInhoud{i}y van dit bericht.\n")
        settings_ = build(output_path=str(tmp / "out"), schoolplein_roster=str(roster_dir),
                          path=str(content), photo_cache_dir=str(tmp / "cache"),
                          photo_audit_dir=str(tmp / "audit"))
        sections = settings_["SCHOOLPLEIN_SECTIONS"]
        out = tmp / "out"
        for path in out.rglob("*"):
            if not path.is_file() or path.suffix not in (".html", ".atom"):
                continue
            text = path.read_text(encoding="utf-8")
            own = sections.for_path(path.relative_to(out).as_posix())
            for i, folder in enumerate(posts):
                home = sections.for_path("/" + folder + "/")
                if f"Geheim{i}x" in text or f"Inhoud{i}y" in text:
                    # a staff member's team page lists posts they may read anyway
                    assert own == home or (own.kind == "team"
                                           and own.readers <= home.readers), (path, folder)
        # and each post is published, in its section
        for i, folder in enumerate(posts):
            assert (out / folder / f"bericht-{i}" / "index.html").is_file()
