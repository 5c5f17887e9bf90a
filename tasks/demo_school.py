"""`invoke demo` runs only on a demo school: it gives everyone a new password and moves dates.

A school that points SCHOOLPLEIN_ROSTER/SCHOOLPLEIN_CONTENT at its own data (or copied its
roster over the demo's files) and types `invoke demo` by mistake would otherwise void every
parent's letter and rewrite its teachers' sign-up dates. A demo roster is recognised by its
addresses: every e-mail address is at a domain reserved for examples (RFC 2606/6761), which a
real parent's or teacher's address never is. One real address and the demo refuses, naming it.
"""

from __future__ import annotations

from pathlib import Path

from plugins.errors import Problem, SchoolpleinError, display_path

EXAMPLE_DOMAINS = ("example.nl", "example.com", "example.org", "example.net")
EXAMPLE_TLDS = ("example", "test", "invalid", "localhost")


def is_example_address(email: str) -> bool:
    domain = email.rpartition("@")[2].lower().rstrip(".")
    return (domain.rpartition(".")[2] in EXAMPLE_TLDS
            or any(domain == d or domain.endswith("." + d) for d in EXAMPLE_DOMAINS))


def refuse_real_school(roster, roster_dir: Path) -> None:
    """SchoolpleinError naming the first real address (file and line), before anything changes."""
    for people, file in ((roster.parents, "ouders.csv"), (roster.staff, "personeel.csv")):
        real = [p for p in people.values() if not is_example_address(p.email)]
        if not real:
            continue
        path = Path(roster_dir) / file
        line = _line_of(path, real[0].email)
        raise SchoolpleinError(Problem(
            display_path(path), line,
            f"'invoke demo' is alleen voor de demo-school: {real[0].email} is een echt "
            "e-mailadres (en er zijn er misschien meer). De demo geeft iedereen een nieuw "
            "wachtwoord en verschuift data in content/; er is niets veranderd. / 'invoke demo' "
            "is for the demo school only: it would reset every password; nothing was changed.",
            "gebruik 'invoke serve' om de eigen school lokaal te bekijken / use 'invoke serve' "
            "for your own school"))


def _line_of(path: Path, email: str) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return next((n for n, text in enumerate(lines, 1) if email in text.lower()), None)
