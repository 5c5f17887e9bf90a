"""Pelican settings for Schoolplein (local build; publishconf.py adds production bits).

Pelican's site-wide aggregates (index, archives, tags, categories, authors,
feeds, sitemap) would leak group content across groups, so every one of them
is switched off; `plugins.section_pages` writes per-section indexes and feeds
inside each section path instead.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plugins.filters import datum, tel  # noqa: E402
from plugins.photos.settings import FOTOS_TXT, IMAGE_SUFFIXES, XMP_SUFFIX  # noqa: E402
from plugins.settings import load_settings  # noqa: E402

ROOT = Path(__file__).resolve().parent
SCHOOLPLEIN_SETTINGS = load_settings(ROOT)  # .env + environment + defaults (plugins/settings.py)
_S = SCHOOLPLEIN_SETTINGS


def _any_case(suffix: str) -> str:
    """'*.[jJ][pP][gG]' for '.jpg': IGNORE_FILES is matched case-sensitively on Linux."""
    return "*." + "".join(f"[{c.lower()}{c.upper()}]" for c in suffix.lstrip("."))


SITENAME = _S.school_name
SITESUBTITLE = "Ouderplatform"
SITEURL = ""
TIMEZONE = "Europe/Amsterdam"
DEFAULT_LANG = "nl"
DEFAULT_DATE_FORMAT = "%-d %B %Y"
JINJA_FILTERS = {"datum": datum, "tel": tel}

PATH = str(_S.content)
ARTICLE_PATHS = [""]  # every folder is read, so an unknown one is an error
ARTICLE_EXCLUDES = ["publiek"]
PAGE_PATHS = ["publiek"]
STATIC_PATHS: list[str] = []  # originals (photos) are never copied
# A post folder's photos, fotos.txt and .xmp sidecars are read by plugins.photos, never by Pelican.
IGNORE_FILES = [".#*", FOTOS_TXT, *(_any_case(s) for s in sorted(IMAGE_SUFFIXES | {XMP_SUFFIX}))]
READERS = {"html": None, "htm": None}
DELETE_OUTPUT_DIRECTORY = True
OUTPUT_RETENTION: list[str] = []
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False

THEME = str(ROOT / "theme")
THEME_STATIC_DIR = "theme"
THEME_STATIC_PATHS = ["static"]

PLUGIN_PATHS = [str(ROOT)]
PLUGINS = ["plugins.build", "plugins.photos"]

# Every URL is decided by plugins.routing from the content folder.
ARTICLE_URL = ARTICLE_SAVE_AS = ""
ARTICLE_LANG_URL = ARTICLE_LANG_SAVE_AS = ""
DRAFT_URL = DRAFT_SAVE_AS = DRAFT_LANG_URL = DRAFT_LANG_SAVE_AS = ""
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
PAGE_LANG_URL = PAGE_LANG_SAVE_AS = ""
DRAFT_PAGE_URL = DRAFT_PAGE_SAVE_AS = ""
DRAFT_PAGE_LANG_URL = DRAFT_PAGE_LANG_SAVE_AS = ""
DIRECT_TEMPLATES: list[str] = []
INDEX_SAVE_AS = ""
TAG_SAVE_AS = TAGS_SAVE_AS = CATEGORY_SAVE_AS = CATEGORIES_SAVE_AS = ""
AUTHOR_SAVE_AS = AUTHORS_SAVE_AS = ARCHIVES_SAVE_AS = ""
YEAR_ARCHIVE_SAVE_AS = MONTH_ARCHIVE_SAVE_AS = DAY_ARCHIVE_SAVE_AS = ""
FEED_ATOM = FEED_RSS = FEED_ALL_ATOM = FEED_ALL_RSS = None
CATEGORY_FEED_ATOM = CATEGORY_FEED_RSS = None
AUTHOR_FEED_ATOM = AUTHOR_FEED_RSS = None
TAG_FEED_ATOM = TAG_FEED_RSS = None
TRANSLATION_FEED_ATOM = TRANSLATION_FEED_RSS = None
FEED_MAX_ITEMS = 20
USE_FOLDER_AS_CATEGORY = False
DEFAULT_CATEGORY = "berichten"
SLUGIFY_SOURCE = "basename"

DEFAULT_PAGINATION = 10
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/pagina/{number}/", "{base_name}/pagina/{number}/index.html"),
)

MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.sane_lists": {},
        "markdown.extensions.smarty": {},
    },
    "output_format": "html5",
}

# Schoolplein's build keys, from the settings (a test or task may override each one).
SCHOOLPLEIN_ROSTER = str(_S.roster)
SCHOOLPLEIN_PRIVATE = str(_S.private)
DIRECTIE_EMAIL = _S.directie_email
SCHOOL_PHONE = _S.school_phone
MIN_CHILDREN_PER_PHOTO = _S.min_children
PHOTO_CONSENT_DEFAULT = _S.consent_default
PHOTO_STRICT = _S.strict
PHOTO_BLUR = _S.photo_blur
PHOTO_CACHE_DIR = str(_S.photo_cache)
PHOTO_AUDIT_DIR = str(_S.audit)
SCHOOLPLEIN_RETENTION_MONTHS = _S.retention_months
SCHOOLPLEIN_SITE_HOSTS = sorted(_S.site_hosts)
SCHOOLPLEIN_SITEURL = _S.site_url  # absolute links in calendar feeds
SCHOOLPLEIN_TODAY = None  # the agenda's "today" (ISO date; None: today in Amsterdam)
# The publish target the build is for (its texts differ: password letter or login link);
# tasks.common.build passes the target's name, the local default is nginx.
SCHOOLPLEIN_TARGET = "nginx"
PAGINATED_TEMPLATES = {"section": None}
