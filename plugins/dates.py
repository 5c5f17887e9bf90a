"""Dutch dates without depending on the machine's locales (often missing on servers)."""

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")


def datum(value) -> str:
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"
