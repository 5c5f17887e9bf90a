"""The public pages every target serves: login help, Uitloggen, Mijn gezin, the 401 and 403 pages.

They hold no personal data. The build writes them (section_pages) from
theme/public/, rendered with the theme's base.html like every other page;
their scripts are first-party files (CSP script-src 'self'). Each target gets
its own variant (`target`, the publish target's name): on nginx and Apache
the server answers /mijn/ and /uitloggen/ itself and the pages speak of the
e-mail address and password from the letter; on CloudFront the scripts do the
work with the login cookies and the pages speak of the personal login link.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from .settings import ROOT

PUBLIC = ROOT / "theme" / "public"
THEME_TEMPLATES = ROOT / "theme" / "templates"
CLOUDFRONT = "cloudfront"
# output path -> file in theme/public/
LOGIN_ASSETS = {"login/index.html": "login.html", "login/login.js": "login.js",
                "uitloggen/index.html": "uitloggen.html", "uitloggen/uitloggen.js": "uitloggen.js",
                "mijn/index.html": "mijn.html", "mijn/mijn.js": "mijn.js",
                "401.html": "401.html", "403.html": "403.html"}
PUBLIC_SCRIPTS = frozenset(key for key in LOGIN_ASSETS if key.endswith(".js"))
# Only CloudFront logs in by script; every target's Uitloggen forgets the postvak receipts.
CLOUDFRONT_ONLY = frozenset({"login/login.js", "mijn/mijn.js"})


def _env() -> Environment:
    """theme/public first, then the theme's templates (the pages extend its base.html)."""
    return Environment(loader=ChoiceLoader([FileSystemLoader(PUBLIC),
                                            FileSystemLoader(THEME_TEMPLATES)]),
                       autoescape=select_autoescape(["html"]), keep_trailing_newline=True)


def render_login_assets(output_dir: Path | str, *, school_name: str | None = None,
                        target: str = "nginx") -> list[Path]:
    """Write /login/, /uitloggen/, /mijn/ (pages and their scripts), 401.html and 403.html for
    `target`.

    The build passes SITENAME as `school_name`; without it, the settings' school name.
    """
    if school_name is None:
        from .settings import load_settings

        school_name = load_settings().school_name
    cloudfront = target == CLOUDFRONT
    out = Path(output_dir)
    written = []
    for name, source in LOGIN_ASSETS.items():
        if name in CLOUDFRONT_ONLY and not cloudfront:
            continue
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if source.endswith(".html"):
            text = _env().get_template(source).render(
                school_name=school_name, SITENAME=school_name, SITESUBTITLE="Ouderplatform",
                cloudfront=cloudfront, SCHOOLPLEIN_TARGET=target)
        else:
            text = (PUBLIC / source).read_text(encoding="utf-8")
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
