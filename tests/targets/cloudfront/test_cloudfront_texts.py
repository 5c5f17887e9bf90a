"""Parents are addressed with "u/uw" everywhere, also on the login page and in letters."""

from __future__ import annotations

import re

import pytest

from plugins.public_pages import PUBLIC
from publish.targets.cloudfront.links import TEMPLATES

INFORMAL = re.compile(r"\b(je|jij|jou|jouw|jullie|ben je|heb je|kom je)\b", re.IGNORECASE)


@pytest.mark.parametrize("name", ["login.html", "403.html", "letter.html", "login.js",
                                  "uitloggen.html", "uitloggen.js", "mijn.html", "mijn.js"])
def test_texts_say_u_not_je(name):
    text = ((TEMPLATES if name == "letter.html" else PUBLIC) / name).read_text(encoding="utf-8")
    if name.endswith(".js"):  # only the Dutch strings, not the code or its comments
        code = re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE)
        text = " ".join(re.findall(r"'([^']*)'", code))
    assert not INFORMAL.findall(text)
    assert re.search(r"\b(u|uw|U|Uw)\b", text)


def test_letter_names_the_family_page_formally(roster, section_map):
    from publish.targets.cloudfront.links import login_link
    from publish.targets.cloudfront.settings import CloudFrontSettings

    settings = CloudFrontSettings.from_env({"CLOUDFRONT_DOMAIN": "ouders.example.nl",
                                            "CLOUDFRONT_KEY_PAIR_ID": "K1"})
    link = login_link(roster.person("ouder-001"), section_map, settings, private_key=_key())
    assert "uw gezinspagina" in link.section_titles


def _key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
