"""Jinja filters for the theme: Dutch dates and phone links, without the machine's locales."""

import re

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")


def datum(value) -> str:
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def tel(number: str) -> str:
    """'010-123 45 67' -> 'tel:0101234567' (a '+' for international numbers stays)."""
    return "tel:" + re.sub(r"(?!^\+)[^0-9]", "", number.strip())
