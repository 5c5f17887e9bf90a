"""The public pages every target serves: login help, Uitloggen, Mijn gezin and the 403 page.

They hold no personal data. The build writes them (section_pages) from
theme/public/, rendered with the theme's base.html like every other page;
their scripts are first-party files (CSP script-src 'self'). On nginx and
Apache the server answers /mijn/ and /uitloggen/ itself and shows these
pages' text; on CloudFront the scripts do the work with the login cookies.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from .settings import ROOT

PUBLIC = ROOT / "theme" / "public"
THEME_TEMPLATES = ROOT / "theme" / "templates"
# output path -> file in theme/public/
LOGIN_ASSETS = {"login/index.html": "login.html", "login/login.js": "login.js",
                "uitloggen/index.html": "uitloggen.html", "uitloggen/uitloggen.js": "uitloggen.js",
                "mijn/index.html": "mijn.html", "mijn/mijn.js": "mijn.js",
                "403.html": "403.html"}
PUBLIC_SCRIPTS = frozenset(key for key in LOGIN_ASSETS if key.endswith(".js"))


def _env() -> Environment:
    """theme/public first, then the theme's templates (the pages extend its base.html)."""
    return Environment(loader=ChoiceLoader([FileSystemLoader(PUBLIC),
                                            FileSystemLoader(THEME_TEMPLATES)]),
                       autoescape=select_autoescape(["html"]), keep_trailing_newline=True)


def render_login_assets(output_dir: Path | str, *, school_name: str | None = None) -> list[Path]:
    """Write /login/, /uitloggen/, /mijn/ (pages and scripts) and 403.html into the output.

    The build passes SITENAME as `school_name`; without it, the settings' school name.
    """
    if school_name is None:
        from .settings import load_settings

        school_name = load_settings().school_name
    out = Path(output_dir)
    written = []
    for target, source in LOGIN_ASSETS.items():
        path = out / target
        path.parent.mkdir(parents=True, exist_ok=True)
        if source.endswith(".html"):
            text = _env().get_template(source).render(
                school_name=school_name, SITENAME=school_name, SITESUBTITLE="Ouderplatform")
        else:
            text = (PUBLIC / source).read_text(encoding="utf-8")
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
