"""Privacy as properties: for any mix of submissions, from anyone, into any postvak."""

from __future__ import annotations

import re
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.roster import Consent, load_roster
from postvak import PostvakSettings, process, quarantine_list, threads
from postvak.store import journal

from .conftest import ADMIN, MORNING, PARENTS, SITE, STAFF, Inbox, mailbox, text_of, write_school

FAMILIES = sorted({p[3] for p in PARENTS}) + ["zzzz2345zzzz2345zzzz"]
LOGINS = [p[2] for p in PARENTS] + [s[2] for s in STAFF] + ["vreemde@example.nl"]
CHILD_IDS = ["lotte-jansen", "daan-jansen", "mees-deboer", "zoe-devries", "omer-devries",
             "sem-kok", "sem-bakker", "onbekend-kind"]
TO = ["lk-3", "lk-56", "lk-56b", "mt-01", "directie", "niemand"]

secret = st.from_regex(r"GEHEIM[a-z]{6}", fullmatch=True).map(lambda s: s + " <b>&amp;</b>")
submission = st.one_of(
    st.fixed_dictionaries({"soort": st.just("afwezigheid"), "kind": st.sampled_from(CHILD_IDS),
                           "reden": st.sampled_from(["ziek", "arts", "anders"]),
                           "toelichting": secret}),
    st.fixed_dictionaries({"soort": st.just("bericht"), "aan": st.sampled_from(TO),
                           "tekst": secret}),
    st.fixed_dictionaries({"soort": st.just("beeldgebruik"), "kind": st.sampled_from(CHILD_IDS),
                           "keuze": st.sampled_from(["geen", "groep", "school"])}),
)
case = st.lists(st.tuples(st.sampled_from(FAMILIES), st.sampled_from(LOGINS), submission,
                          st.integers(0, 600)), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case)
def test_nothing_leaks_through_mails_or_threads_and_nothing_is_dropped(items):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        school = PostvakSettings(private=tmp / "private", roster=write_school(tmp / "roster"),
                                 site_url=SITE, sender="Schoolplein <noreply@ouders.example.nl>",
                                 admin_email=ADMIN, consent_default=Consent.SCHOOL)
        roster = load_roster(school.roster)
        inbox = Inbox(school)
        texts = []
        for family, login, body, minutes in items:
            texts.append(body.get("tekst") or body.get("toelichting") or "")
            inbox.put(family, login, body, at=MORNING + timedelta(minutes=minutes))
        process(school)

        # nothing dropped: every submission is journaled or in quarantine, never both
        journaled = {r["id"] for r in journal(school.private)}
        quarantined = {q.id for q in quarantine_list(school.private)}
        assert journaled | quarantined == set(inbox.ids) and not journaled & quarantined

        staff = {s.email for s in roster.staff.values()}
        parents = {p.email: p for p in roster.parents.values()}
        for msg in mailbox(school):
            text = text_of(msg)
            assert "GEHEIM" not in text  # never a message text or an absence note
            to = msg["To"]
            if to in staff:  # staff: first names only, never a last name
                for child in roster.children.values():
                    assert not re.search(rf"\b{re.escape(child.full_name)}\b", text)
            elif to in parents:  # a parent: only their own children
                own = {roster.children[c].first_name for c in parents[to].children}
                for child in roster.children.values():
                    if child.first_name not in own:
                        assert child.first_name not in text
                # and a link to their own family page only
                assert set(re.findall(r"/gezin/([a-z0-9]+)/", text)) <= {parents[to].family}
            else:
                assert to == ADMIN

        # a family page shows only what its own parents sent (and the school's decisions)
        for fid, items_ in threads(school.private, roster).items():
            own = {roster.parents[p].name for p in roster.families[fid].parents}
            assert {i.sender for i in items_} <= own | {"de school"}
            shown = {i.text for i in items_ if i.text}
            sent_here = {t for (f, _, _, _), t in zip(items, texts, strict=True) if f == fid and t}
            assert shown <= sent_here
