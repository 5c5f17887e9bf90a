"""`invoke demo` resets every password and moves dates: on a real school it refuses, changing nothing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tasks.demo_school import is_example_address
from tests.helpers import demo_school, run_invoke


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_one_real_address_and_the_demo_changes_nothing(tmp_path):
    env = demo_school(tmp_path, SCHOOLPLEIN_WEB_USER=os.environ.get("USER", "root"))
    accounts = run_invoke("accounts", env=env)  # the school's letters are out: valid passwords
    assert accounts.returncode == 0, accounts.stderr
    parents = tmp_path / "roster" / "ouders.csv"
    lines = parents.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[7] = lines[7].replace("@example.nl", "@gmail.com", 1)  # a real parent, line 8
    parents.write_text("".join(lines), encoding="utf-8")
    before = {name: _tree(tmp_path / name) for name in ("private", "content", "roster")}

    demo = run_invoke("demo", "--port", "1", "--postvak", "0", env=env)

    assert demo.returncode == 1
    message = demo.stderr
    assert "ouders.csv:8" in message and "@gmail.com" in message, message
    assert "alleen voor de demo-school" in message and "invoke serve" in message
    assert {name: _tree(tmp_path / name) for name in before} == before  # no password, no date


LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?", fullmatch=True)
LOCAL = st.from_regex(r"[a-z0-9]([a-z0-9._+-]{0,15}[a-z0-9])?", fullmatch=True)


@given(LOCAL, st.lists(LABEL, min_size=1, max_size=3),
       st.sampled_from(["nl", "com", "be", "org", "net", "eu", "de", "school"]))
def test_an_address_at_a_real_domain_is_never_taken_for_an_example(local, labels, tld):
    if labels[-1] == "example" and tld in ("nl", "com", "org", "net"):
        labels[-1] += "s"  # example.nl itself is reserved; examples.nl is somebody's
    assert not is_example_address(f"{local}@{'.'.join(labels)}.{tld}")


@given(LOCAL, st.lists(LABEL, max_size=2),
       st.sampled_from(["example.nl", "example.com", "example", "test", "invalid"]))
def test_an_address_at_a_reserved_domain_is_an_example(local, labels, reserved):
    assert is_example_address(f"{local}@{'.'.join([*labels, reserved])}".upper())


def test_the_demo_schools_own_roster_is_an_example():
    for file in ("ouders.csv", "personeel.csv"):
        rows = (Path(__file__).parents[2] / "roster" / file).read_text().splitlines()[1:]
        assert all(is_example_address(row.split(",")[2]) for row in rows)
    assert not is_example_address("juf.anna@kcdematrix.nl")
    assert not is_example_address("ouder@notexample.nl")
