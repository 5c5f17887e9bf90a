"""Personal login links and the printable letters (the login page itself: plugins.public_pages).

A link is `https://<domain>/login/#<fragment>`. The fragment is never sent to
a server; it carries one signed cookie set per protected section the person
may read. To keep links short enough for a QR code it carries only the
signature per section: the policy is rebuilt by login.js from domain, prefix
and expiry (it must match `custom_policy` byte for byte; a browser test
checks that). Each person's links expire at their own second (see
cloudfront_revocation), so one person can be revoked.

A phone scans a QR code from paper reliably up to ~1,200 bytes. A parent's
link fits in one (an ECDSA set is ~125 bytes); a teacher reads every family
page of the group, so their link is split into complete links of at most
QR_PART_MAX_BYTES, each its own QR code ("deel 1 van 3"). Cookies accumulate,
as every set has its own path; the first part holds the home page.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape

from plugins.errors import Problem, SchoolpleinError
from plugins.roster import Parent, Person, Roster
from plugins.sections import SectionMap

from .revocation import AccessChange, LinkRegistry
from .settings import CloudFrontSettings
from .signing import CookieSet, load_private_key, sign_prefix

TEMPLATES = Path(__file__).parent / "templates"
QR_PART_MAX_BYTES = 1200  # about QR version 25 (117 modules): scans from paper at 6 cm
PRINT_FILE = "afdrukken.html"  # every letter of one run in one file, one page per person


@dataclass(frozen=True)
class LoginPart:
    """One complete login link of a split link: its own QR code in the letter."""

    number: int
    of: int
    url: str
    titles: tuple[str, ...]  # what this part opens, for the letter


@dataclass(frozen=True)
class LoginLink:
    person_id: str
    name: str
    home: str
    url: str  # every set in one link (for e-mail or a computer)
    cookie_sets: tuple[CookieSet, ...]
    section_titles: tuple[str, ...]
    parts: tuple[LoginPart, ...] = ()

    @property
    def expires(self) -> int:
        return self.cookie_sets[0].expires


def _env() -> Environment:
    """The letters' template (a printed page, not a site page: it does not use the theme)."""
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                       keep_trailing_newline=True)


def cookie_prefixes(person_id: str, section_map: SectionMap, home: str = "") -> tuple[str, ...]:
    """Cookie paths for a person: one per protected section they may read, home first.

    Someone who may read *every* protected section (the directie) gets a single
    set for `/`: browsers keep at most ~180 cookies per site, and three per
    family would exceed that in a normal-sized school.
    """
    readable = [s.prefix for s in section_map.readable_by(person_id) if s.protected]
    if readable and len(readable) == len(section_map.protected):
        return ("/",)
    return tuple(sorted(readable, key=lambda prefix: prefix != home))


def link_fragment(domain: str, home: str, sets: tuple[CookieSet, ...],
                  part: tuple[int, int] | None = None) -> str:
    if not sets:
        raise ValueError("a login link needs at least one cookie set")
    parts = [f"v=1&d={domain}&e={sets[0].expires}&k={sets[0].key_pair_id}&h={quote(home)}"]
    if part and part[1] > 1:
        parts.append(f"p={part[0]}.{part[1]}")
    parts += [f"c={quote(s.prefix)}.{s.signature}" for s in sets]
    return "&".join(parts)


def login_url(domain: str, home: str, sets: tuple[CookieSet, ...],
              part: tuple[int, int] | None = None) -> str:
    return f"https://{domain}/login/#{link_fragment(domain, home, sets, part)}"


def split_sets(domain: str, home: str, sets: tuple[CookieSet, ...],
               limit: int = QR_PART_MAX_BYTES) -> list[tuple[CookieSet, ...]]:
    """Consecutive groups of sets whose login links stay within `limit` bytes."""
    groups: list[list[CookieSet]] = [[]]
    for cookie_set in sets:
        trial = (*groups[-1], cookie_set)
        if groups[-1] and len(login_url(domain, home, trial, (99, 99)).encode()) > limit:
            groups.append([cookie_set])
        else:
            groups[-1].append(cookie_set)
    return [tuple(g) for g in groups]


def _titles(prefixes: Iterable[str], section_map: SectionMap, parent: bool) -> tuple[str, ...]:
    """What a set of cookie paths opens, in words for the letter."""
    titles: list[str] = []
    families = 0
    for prefix in prefixes:
        section = section_map.for_path(prefix)
        if prefix == "/":
            titles.append("alle pagina's van de school")
        elif section.kind == "family":
            families += 1
        else:
            titles.append(section.title)
    if families:
        titles.append("uw gezinspagina" if parent else
                      "de gezinspagina" if families == 1 else f"{families} gezinspagina's")
    return tuple(titles)


def login_link(person: Person, section_map: SectionMap, settings: CloudFrontSettings,
               private_key=None, *, expires: int | None = None) -> LoginLink:
    """The personal link for one person: cookie sets for exactly their protected sections.

    `expires` is the person's own expiry second (from the LinkRegistry); without
    it, the end of the access period.
    """
    key = private_key or load_private_key(settings.private_key_file)
    home = section_map.homes.get(person.id, "/school/")
    expires = settings.expires_epoch if expires is None else expires
    prefixes = cookie_prefixes(person.id, section_map, home)
    sets = tuple(sign_prefix(p, domain=settings.domain, expires=expires,
                             key_pair_id=settings.key_pair_id, private_key=key) for p in prefixes)
    parent = isinstance(person, Parent)
    groups = split_sets(settings.domain, home, sets)
    parts = tuple(LoginPart(n, len(groups), login_url(settings.domain, home, g, (n, len(groups))),
                            _titles((s.prefix for s in g), section_map, parent))
                  for n, g in enumerate(groups, start=1))
    return LoginLink(person.id, person.name, home, login_url(settings.domain, home, sets), sets,
                     _titles(prefixes, section_map, parent), parts)


def person_prefixes(person_id: str, section_map: SectionMap) -> tuple[str, ...]:
    """The cookie paths a link of this person opens today."""
    return cookie_prefixes(person_id, section_map, section_map.homes.get(person_id, "/school/"))


def login_links(roster: Roster, section_map: SectionMap, settings: CloudFrontSettings,
                private_key=None, registry: LinkRegistry | None = None,
                only: Iterable[str] | None = None) -> dict[str, LoginLink]:
    """Every person's link (or those in `only`), by person id (for letters and e-mails).

    With a registry, each person gets their own expiry second, recorded in it
    with the paths the link opens; a person who may read less than a live link
    of theirs opens gets a new second, and the old one is revoked
    (LinkRegistry.issue).
    """
    key = private_key or load_private_key(settings.private_key_file)
    end = settings.expires_epoch
    wanted = None if only is None else set(only)
    return {p.id: login_link(p, section_map, settings, key, expires=registry.issue(
                p.id, end, person_prefixes(p.id, section_map)) if registry else None)
            for p in sorted(roster.people(), key=lambda p: p.id)
            if wanted is None or p.id in wanted}


def qr_svg(url: str) -> str | None:
    """Inline SVG QR code of the link, or None when the link is too long for one."""
    import qrcode
    import qrcode.image.svg
    from qrcode.exceptions import DataOverflowError

    if len(url.encode()) > QR_PART_MAX_BYTES:
        return None
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L, border=2)
    code.add_data(url)
    try:
        code.make(fit=True)
    except (DataOverflowError, ValueError):
        return None
    buffer = io.BytesIO()
    code.make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    return svg[svg.index("<svg"):] if "<svg" in svg else svg


def write_cloudfront_letters(roster: Roster, section_map: SectionMap,
                             settings: CloudFrontSettings, out_dir: Path | str | None = None,
                             *, site_output: Path | str = "output",
                             renew: Iterable[str] = (), people: Iterable[str] = (),
                             registry: LinkRegistry | None = None) -> list[Path]:
    """One private, printable HTML letter per person, with only that person's link.

    Each parent gets their own (their link is their login: the postvak's sender and the
    consent audit's "who"), as `brief-<person id>.html`. `PRINT_FILE` beside them holds
    the letters of this run in one file for printing, one page each, a family's one after
    another.
    Letters hold working links: they go to a private folder (mode 0700), never
    into the site output. `renew` (person ids) revokes those people's current
    links and writes only their letters with new ones; the old links stop
    working at the next `invoke publish --target cloudfront`. `people` writes
    only the letters of these people, revoking nothing but what a narrowing of
    their access demands (LinkRegistry.issue). `registry`: the one to record in
    (saved here); by default the private folder's.
    """
    out = Path(out_dir) if out_dir is not None else settings.letters_dir
    site = Path(site_output).resolve()
    if out.resolve() == site or site in out.resolve().parents:
        raise SchoolpleinError(Problem(str(out), None,
                                       "brieven met inloglinks mogen niet in de site-map",
                                       "kies een map buiten de site, bv. private/"))
    renew = set(renew)
    wanted = renew | set(people)
    unknown = sorted(wanted - {p.id for p in roster.people()})
    if unknown:
        raise SchoolpleinError(Problem("roster/", None, f"onbekende persoon: {', '.join(unknown)}",
                                       "gebruik het id uit roster/ouders.csv of personeel.csv"))
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    registry = registry or LinkRegistry.load(settings.private_dir)
    for person_id in renew:
        registry.revoke(person_id)
    order = [pid for family in sorted(roster.families.values(), key=lambda f: f.id)
             for pid in family.parents] + sorted(roster.staff)
    if wanted:
        order = [pid for pid in order if pid in wanted]
    links = login_links(roster, section_map, settings, registry=registry, only=order)
    registry.save()
    template = _env().get_template("letter.html")
    school_name = section_map.get("school", "school").title
    until = settings.access_until.strftime("%d-%m-%Y")
    written, letters = [], []
    for person_id in order:
        link = links[person_id]
        letter = {"name": link.name, "link": link.url, "sections": link.section_titles,
                  "parts": [{"number": part.number, "of": part.of, "url": part.url,
                             "titles": part.titles, "qr_svg": qr_svg(part.url)}
                            for part in link.parts]}
        letters.append(letter)
        written.append(_write_private(out / f"brief-{person_id}.html", template.render(
            letters=[letter], school_name=school_name, until=until)))
    _write_private(out / PRINT_FILE, template.render(letters=letters, school_name=school_name,
                                                     until=until))
    return written


def _write_private(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def _place(prefix: str, section_map: SectionMap) -> str:
    """A cookie path in the admin's words."""
    if prefix == "/":
        return "alle pagina's"
    section = section_map.for_path(prefix)
    if section.prefix != prefix:
        return f"{prefix} (bestaat niet meer)"
    return f"gezinspagina {section.key}" if section.kind == "family" else section.title


def _places(prefixes: Iterable[str], section_map: SectionMap) -> str:
    """Sections first, then family pages (a teacher has many)."""
    ordered = sorted(prefixes, key=lambda p: (section_map.for_path(p).kind == "family", p))
    return ", ".join(_place(p, section_map) for p in ordered)


def describe_change(change: AccessChange, roster: Roster, section_map: SectionMap) -> str:
    """One line for the admin: who, what they lost and gained, what happened to the old link."""
    person = roster.person(change.person_id)
    parts = [f"{person.id} ({person.name})"]
    if change.unknown:
        parts.append("oude link van vóór het bijhouden van toegang: ingetrokken")
    if change.lost:
        parts.append(f"mag niet meer lezen: {_places(change.lost, section_map)}; "
                     "oude link ingetrokken")
    if change.gained:
        parts.append(f"mag nu ook lezen: {_places(change.gained, section_map)}")
    if not change.narrowed:
        parts.append("de oude link blijft werken voor wat hij al opende")
    return "  " + "; ".join(parts)


def renew_changed_access(roster: Roster, section_map: SectionMap, settings: CloudFrontSettings,
                         registry: LinkRegistry, *, dry_run: bool = False,
                         out: Callable[[str], None] = print) -> list[AccessChange]:
    """New letters for everyone whose access changed since their link; narrowing revokes.

    Runs at every `invoke publish --target cloudfront`, before the deny-list is
    updated: a teacher moved to another group, a parent in a household of their
    own, a child who left a group (its parents and teachers), another staff role.
    Whoever may now read less than their link opens has that link revoked (the
    same publish puts it on the deny-list); whoever may read more gets a new
    letter too (the old link keeps working for what it opened). In a dry run the
    revocations happen in `registry` only (so the plan shows them), nothing is written.
    """
    changes = [change for person in sorted(roster.people(), key=lambda p: p.id)
               if (change := registry.change(person.id, person_prefixes(person.id, section_map)))]
    if not changes:
        return []
    lines = [describe_change(change, roster, section_map) for change in changes]
    if dry_run:
        for change in changes:
            if change.narrowed:
                registry.revoke(change.person_id)
        out(f"Proefrun: toegang gewijzigd sinds de laatste brief van {len(changes)} "
            "persoon/personen; zou nieuwe brieven schrijven:\n" + "\n".join(lines))
        return changes
    written = write_cloudfront_letters(roster, section_map, settings,
                                       people={c.person_id for c in changes}, registry=registry)
    folder = written[0].parent if written else settings.letters_dir
    out(f"Toegang gewijzigd sinds de laatste brief van {len(changes)} persoon/personen. "
        f"Nieuwe brieven ({len(written)}) in {folder} (samen af te drukken: "
        f"{PRINT_FILE}); deel ze uit:\n" + "\n".join(lines)
        + ("\nIngetrokken links werken niet meer zodra deze publicatie klaar is."
           if any(c.narrowed for c in changes) else ""))
    return changes
