"""Settings: one table, documented in .env.example, the same Dutch error wherever read."""

from __future__ import annotations

import re

import pytest
from dotenv import dotenv_values

from plugins.errors import SchoolpleinError
from plugins.settings import KEYS, load_settings
from tests.helpers import ROOT, run_invoke


def test_env_example_documents_exactly_the_settings_table():
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    assert documented == {k.env for k in KEYS}


def test_the_example_loads_and_its_defaults_are_the_tables():
    values = {k: v for k, v in dotenv_values(ROOT / ".env.example").items() if v is not None}
    from_example = load_settings(ROOT, values)
    defaults = load_settings(ROOT, {})
    for key in KEYS:
        if key.env in values and key.default and values[key.env]:
            assert getattr(from_example, key.attr) == getattr(defaults, key.attr), key.env


@pytest.mark.parametrize(("key", "value"), [
    ("SCHOOLPLEIN_PORT", "achtduizend"), ("SCHOOLPLEIN_STRICT", "misschien"),
    ("SCHOOLPLEIN_PHOTO_CONSENT_DEFAULT", "alles"), ("SCHOOLPLEIN_ACCESS_UNTIL", "31-07-2027"),
    ("SCHOOLPLEIN_SITEURL", "ouders.school.nl"),
])
def test_a_bad_value_names_the_key_line_and_fix(tmp_path, key, value, monkeypatch):
    monkeypatch.delenv(key, raising=False)
    (tmp_path / ".env").write_text(f"# school\nSCHOOLPLEIN_SCHOOL_NAME=OBS\n{key}={value}\n")
    with pytest.raises(SchoolpleinError) as info:
        load_settings(tmp_path)
    text = info.value.render()
    assert f".env:3: {key} '{value}'" in text and "oplossing:" in text


def test_every_task_gives_the_same_error_for_a_bad_setting():
    for args in (("build",), ("check",), ("accounts",), ("publish", "--target", "cloudfront")):
        result = run_invoke(*args, env={"SCHOOLPLEIN_PORT": "achtduizend"})
        assert result.returncode != 0, args
        assert "SCHOOLPLEIN_PORT 'achtduizend' is geen geldige waarde" in result.stderr, (
            args, result.stderr[-800:])
        assert "Traceback" not in result.stderr, args
