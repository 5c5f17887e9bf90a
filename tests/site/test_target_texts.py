"""Every public page kind speaks of the way its target logs in, and of nothing else.

nginx and Apache (basic auth) log in with the e-mail address and password from the letter;
CloudFront with a personal login link (a QR code in the letter). A build for one target
must not send a parent looking for the other's.
"""

from __future__ import annotations

import html
import re
import shutil

import pytest

from plugins.settings import load_settings
from tasks.common import build
from tests.helpers import ROOT, demo_school

PAGES = ("403.html", "401.html", "login/index.html", "uitloggen/index.html", "mijn/index.html")
# What a page of the other target would say.
FOREIGN = {"nginx": re.compile(r"QR|inloglink|link uit|cookie", re.IGNORECASE),
           "cloudfront": re.compile(r"wachtwoord", re.IGNORECASE)}
OWN = {"nginx": ("e-mailadres", "wachtwoord"), "cloudfront": ("inloglink",)}


def text(path) -> str:
    """What a reader sees: the page's text without tags, comments and scripts."""
    page = re.sub(r"<!--.*?-->|<script.*?</script>|<[^>]+>", " ", path.read_text(), flags=re.S)
    return " ".join(html.unescape(page).split())


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """The demo school (without its photo posts: the texts are the point) built per target."""
    tmp = tmp_path_factory.mktemp("texts")
    env = demo_school(tmp)
    shutil.rmtree(tmp / "content" / "groep")
    cfg = load_settings(ROOT, env)
    built = {}
    for target in FOREIGN:
        output = tmp / f"output-{target}"
        build(cfg, output=output, production=True, for_target=target)
        built[target] = output
    return built


@pytest.mark.parametrize("target", sorted(FOREIGN))
@pytest.mark.parametrize("page", PAGES)
def test_each_page_kind_speaks_of_its_targets_login(outputs, target, page):
    said = text(outputs[target] / page)
    assert not FOREIGN[target].search(said), (target, page, FOREIGN[target].search(said))
    if page != "mijn/index.html":  # Mijn gezin opens the family page; no login is taught there
        for word in OWN[target]:
            assert word in said.lower(), (target, page, word, said)


def test_only_cloudfront_logs_in_by_script(outputs):
    assert (outputs["cloudfront"] / "login" / "login.js").is_file()
    assert not (outputs["nginx"] / "login" / "login.js").exists()
    assert "login.js" not in (outputs["nginx"] / "login" / "index.html").read_text()
    for target in FOREIGN:  # both forget the postvak receipts when logging out
        assert (outputs[target] / "uitloggen" / "uitloggen.js").is_file()


def test_the_basic_auth_logout_page_says_what_the_browser_forgets_and_what_stays(outputs):
    said = text(outputs["nginx"] / "uitloggen" / "index.html")
    assert "Wat deze browser nu vergeet" in said and "Wat blijft" in said
    assert "wachtwoordmanager" in said and "ander tabblad" in said
