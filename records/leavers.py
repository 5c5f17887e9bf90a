"""A child who left: the school's photo-consent decision for the archive years they are in.

A child no longer in the roster has no family page, so their parents cannot
change consent there any more; they ask the school. `invoke beeldgebruik` then
lands here: the decision is written into the child's `beeldgebruik` cell of
every kept archive that holds them (roster/archief/<year>/leerlingen.csv, only
that cell), and one line goes into the same consent audit trail as every other
choice. The photo rules read the narrowest of those cells (plugins.archive),
so the next build drops every archive photo the decision forbids.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from plugins import archive
from plugins.errors import Problem, SchoolpleinError
from plugins.roster import Consent, load_roster
from plugins.settings import Settings


def record_decision(cfg: Settings, child: str, decision: str, by: str,
                    now: datetime | None = None) -> list[str]:
    """Write the decision into the child's archive years; returns what was done (Dutch)."""
    from postvak import store
    from postvak.consent import SCHOOL, append_audit, write_consent

    if decision not in {c.value for c in Consent}:
        raise SchoolpleinError(Problem("besluit beeldgebruik", None,
                                       f"onbekende keuze '{decision}'", "kies geen, groep of school"))
    if not by.strip():
        raise SchoolpleinError(Problem("besluit beeldgebruik", None, "wie besluit ontbreekt",
                                       "geef de naam van wie namens de school besluit"))
    roster = load_roster(cfg.roster)
    kept = archive.load_archives(cfg.roster, cfg.retention_months).live
    years = [a for a in kept if child in a.roster.children]
    if child in roster.children or not years:
        raise SchoolpleinError(Problem("besluit beeldgebruik", None, f"onbekend kind '{child}'",
                                       "gebruik een id uit leerlingen.csv (of, voor een kind dat "
                                       "vertrok, uit roster/archief/<schooljaar>/leerlingen.csv)"))
    chosen = Consent(decision)
    before = archive.photo_roster(roster, kept).children[child].consent or cfg.consent_default
    moment = now or datetime.now(UTC)
    with store.locked(cfg.private):
        for year in years:
            write_consent(archive.folder(cfg.roster, year.year), child, chosen)
        append_audit(cfg.private, {
            "tijd": moment.isoformat(), "inzending": f"besluit-archief-{uuid.uuid4()}",
            "kind": child, "door": f"{SCHOOL} {by.strip()}", "gezin": "", "keuze": chosen.value,
            "oud": before.value, "nieuw": chosen.value,
            "van_kracht": "ja" if chosen != before else "ja (geen verandering)"})
    return [f"Beeldgebruik van {child} (vertrokken) in het archief "
            f"{', '.join(a.year for a in years)}: {before.value} -> {chosen.value} (in het "
            "logboek). Het kind staat niet meer in het rooster: laat de ouders het zelf weten."]
