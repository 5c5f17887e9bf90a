"""The one reader of bytes a parent sent: bounded and total.

Every place that reads a stored submission's body again (processing, the
family threads, the unreadable-roster report) goes through `load`, so a body
that one step survives can never crash a later one. It either returns the
parsed JSON value or raises `Unreadable` with a Dutch reason that is safe to
store and print (no raw parent text, no lone surrogates). What it refuses:

- more than MAX_BODY bytes; a byte order mark (UTF-8, UTF-16, UTF-32); bytes
  that are not strict UTF-8 (also encoded surrogates and overlong forms);
- nesting deeper than MAX_DEPTH (the shapes are one flat object);
- a key twice in one object; NaN, Infinity, -Infinity; an integer of more than
  MAX_DIGITS digits (Python would spend quadratic time on it) or a number that
  is not finite (1e999);
- a string or key with a lone surrogate escape (\\ud800), which no UTF-8
  writer could store.
"""

from __future__ import annotations

import json
import math

MAX_BODY = 16 * 1024
MAX_DEPTH = 4
MAX_DIGITS = 18
BOMS = (b"\xef\xbb\xbf", b"\xfe\xff", b"\xff\xfe", b"\x00\x00\xfe\xff")


class Unreadable(ValueError):
    """Not a JSON value this postvak reads; `reason` is safe to store and show (Dutch)."""

    def __init__(self, reason: str):
        super().__init__(safe_text(reason))
        self.reason = safe_text(reason)


def safe_text(text: str, limit: int = 500) -> str:
    """`text` as valid UTF-8 (a lone surrogate becomes \\udxxx), at most `limit` characters."""
    clean = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return clean if len(clean) <= limit else clean[:limit - 1] + "…"


def shown(value: object, limit: int = 40) -> str:
    """A parent's value in a reason: quoted, ASCII-escaped, short."""
    return ascii(value if isinstance(value, str) else str(type(value).__name__))[:limit]


def load(raw: bytes) -> object:
    """The JSON value in `raw`, or Unreadable with the reason."""
    if len(raw) > MAX_BODY:
        raise Unreadable(f"te groot: {len(raw)} bytes (hoogstens {MAX_BODY})")
    if raw.startswith(BOMS):
        raise Unreadable("begint met een BOM (byte order mark); verwacht UTF-8 zonder BOM")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable("geen UTF-8 tekst") from None
    depth = deepest(text)
    if depth > MAX_DEPTH:
        raise Unreadable(f"te diep genest ({depth} niveaus, hoogstens {MAX_DEPTH})")
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_constant,
                           parse_int=_int, parse_float=_float)
    except Unreadable:
        raise
    except (ValueError, RecursionError, OverflowError):
        raise Unreadable("geen geldige JSON") from None
    _strings(value)
    return value


def deepest(text: str) -> int:
    """How deep arrays and objects nest in `text` (brackets inside strings do not count).

    One pass over at most MAX_BODY characters: linear whatever the input.
    """
    depth = most = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            most = max(most, depth)
        elif char in "]}":
            depth -= 1
    return most


def _strings(value: object) -> None:
    """Every key and string is valid text (the depth is bounded, so this recursion is too)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Unreadable("bevat een losse surrogaat (\\ud800-\\udfff): geen geldige "
                             "tekst") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _strings(key)
            _strings(item)
    elif isinstance(value, list):
        for item in value:
            _strings(item)


def _object(pairs: list[tuple[str, object]]) -> dict:
    found: dict = {}
    for key, value in pairs:
        if key in found:
            raise Unreadable(f"veld {shown(safe_text(key))} staat er twee keer in")
        found[key] = value
    return found


def _constant(name: str):
    raise Unreadable(f"{name} is geen getal in JSON")


def _int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise Unreadable(f"getal te lang ({len(digits)} cijfers, hoogstens {MAX_DIGITS})")
    return int(digits)


def _float(text: str) -> float:
    if len(text) > 40:
        raise Unreadable("getal te lang")
    value = float(text)
    if not math.isfinite(value):
        raise Unreadable("getal buiten bereik")
    return value
