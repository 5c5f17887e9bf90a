"""Personal login links, the public login page and the printable letters.

A link is `https://<domain>/login/#<fragment>`. The fragment is never sent to
a server; it carries one signed cookie set per protected section the person
may read. To keep links short enough for a QR code it carries only the
signature per section: the policy is rebuilt by login.js from domain, prefix
and expiry (it must match `custom_policy` byte for byte; a browser test
checks that).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

from plugins.errors import Problem, SchoolpleinError
from plugins.roster import Parent, Person, Roster
from plugins.sections import SectionMap

from .cloudfront_settings import CloudFrontSettings
from .cloudfront_signing import CookieSet, load_private_key, sign_prefix

TEMPLATES = Path(__file__).parent / "templates"
THEME = Path(__file__).resolve().parent.parent / "theme" / "templates"
LOGIN_ASSETS = {"login/index.html": "login.html", "login/login.js": "login.js",
                "403.html": "403.html"}
PUBLIC_SCRIPTS = frozenset(key for key in LOGIN_ASSETS if key.endswith(".js"))
QR_MAX_BYTES = 2953  # version 40, error correction L, byte mode


@dataclass(frozen=True)
class LoginLink:
    person_id: str
    name: str
    home: str
    url: str
    cookie_sets: tuple[CookieSet, ...]
    section_titles: tuple[str, ...]


def _env() -> Environment:
    """Our templates first, then the theme's (login.html and 403.html extend its base.html)."""
    loader = ChoiceLoader([PackageLoader("publish", "templates"), FileSystemLoader(THEME)])
    return Environment(loader=loader, autoescape=select_autoescape(["html"]),
                       keep_trailing_newline=True)


def render_login_assets(output_dir: Path | str, *, school_name: str | None = None) -> list[Path]:
    """Write login/index.html, login/login.js and 403.html into the site output.

    All three are public and contain no personal data or secrets. The build
    passes SITENAME as `school_name`; without it, SCHOOLPLEIN_SCHOOL_NAME is used.
    """
    if school_name is None:
        school_name = CloudFrontSettings.from_env().school_name
    out = Path(output_dir)
    written = []
    for target, source in LOGIN_ASSETS.items():
        path = out / target
        path.parent.mkdir(parents=True, exist_ok=True)
        if source.endswith(".html"):
            text = _env().get_template(source).render(
                school_name=school_name, SITENAME=school_name, SITESUBTITLE="Ouderplatform")
        else:
            text = (TEMPLATES / source).read_text(encoding="utf-8")
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def home_of(person: Person) -> str:
    """Where a person lands after logging in: parents their family page, staff /school/."""
    return f"/gezin/{person.family}/" if isinstance(person, Parent) else "/school/"


def cookie_prefixes(person_id: str, section_map: SectionMap) -> tuple[str, ...]:
    """Cookie paths for a person: one per protected section they may read.

    Someone who may read *every* protected section (the directie) gets a single
    set for `/`: browsers keep at most ~180 cookies per site, and three per
    family would exceed that in a normal-sized school.
    """
    readable = [s.prefix for s in section_map.readable_by(person_id) if s.protected]
    if readable and len(readable) == len(section_map.protected):
        return ("/",)
    return tuple(readable)


def link_fragment(domain: str, home: str, sets: tuple[CookieSet, ...]) -> str:
    if not sets:
        raise ValueError("a login link needs at least one cookie set")
    parts = [f"v=1&d={domain}&e={sets[0].expires}&k={sets[0].key_pair_id}&h={quote(home)}"]
    parts += [f"c={quote(s.prefix)}.{s.signature}" for s in sets]
    return "&".join(parts)


def login_link(person: Person, section_map: SectionMap, settings: CloudFrontSettings,
               private_key=None) -> LoginLink:
    """The personal link for one person: cookie sets for exactly their protected sections."""
    key = private_key or load_private_key(settings.private_key_file)
    sections = [s for s in section_map.readable_by(person.id) if s.protected]
    sets = tuple(sign_prefix(p, domain=settings.domain, expires=settings.expires_epoch,
                             key_pair_id=settings.key_pair_id, private_key=key)
                 for p in cookie_prefixes(person.id, section_map))
    home = home_of(person)
    url = f"https://{settings.domain}/login/#{link_fragment(settings.domain, home, sets)}"
    family = "uw gezinspagina" if isinstance(person, Parent) else "de gezinspagina's"
    titles = tuple(dict.fromkeys(s.title if s.kind != "family" else family for s in sections))
    return LoginLink(person.id, person.name, home, url, sets, titles)


def login_links(roster: Roster, section_map: SectionMap, settings: CloudFrontSettings,
                private_key=None) -> dict[str, LoginLink]:
    """Every person's link, by person id (for letters and e-mails)."""
    key = private_key or load_private_key(settings.private_key_file)
    return {p.id: login_link(p, section_map, settings, key) for p in roster.people()}


def qr_svg(url: str) -> str | None:
    """Inline SVG QR code of the link, or None when the link is too long for one."""
    import qrcode
    import qrcode.image.svg
    from qrcode.exceptions import DataOverflowError

    if len(url.encode()) > QR_MAX_BYTES:
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
                             *, site_output: Path | str = "output") -> list[Path]:
    """One private, printable HTML letter file per family and per staff member.

    Letters hold working links: they go to a private folder (mode 0700), never
    into the site output.
    """
    out = Path(out_dir) if out_dir is not None else settings.letters_dir
    site = Path(site_output).resolve()
    if out.resolve() == site or site in out.resolve().parents:
        raise SchoolpleinError(Problem(str(out), None,
                                       "brieven met inloglinks mogen niet in de site-map",
                                       "kies een map buiten de site, bv. private/"))
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    links = login_links(roster, section_map, settings)
    groups: dict[str, list[str]] = {}
    for family in roster.families.values():
        groups[f"gezin-{family.id}.html"] = list(family.parents)
    for member in roster.staff.values():
        groups[f"personeel-{member.id}.html"] = [member.id]
    template = _env().get_template("letter.html")
    until = settings.access_until.strftime("%d-%m-%Y")
    written = []
    for filename, ids in sorted(groups.items()):
        letters = [{"name": links[i].name, "link": links[i].url, "qr_svg": qr_svg(links[i].url),
                    "sections": links[i].section_titles} for i in ids]
        path = out / filename
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(template.render(letters=letters, school_name=section_map.get(
                "school", "school").title, until=until))
        written.append(path)
    return written
