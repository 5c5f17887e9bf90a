"""Change one cell of a spreadsheet CSV and keep every other byte as it was.

The admin edits roster/leerlingen.csv in a spreadsheet and keeps it in git: a
consent change must show up as a one-cell diff, not as a re-quoted, re-ordered
file with different line endings or a lost BOM. The csv module gives no byte
offsets, so a small tokenizer finds the cell; its reading is checked against the
csv module before and after the edit, and anything it does not understand is
refused rather than guessed.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

from . import store

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Cell:
    value: str
    start: int
    end: int
    quoted: bool


class CsvEditError(ValueError):
    pass


def tokenize(text: str) -> list[list[Cell]]:
    """Rows of cells with their offsets in `text` (Excel dialect; blank lines give [])."""
    rows: list[list[Cell]] = []
    row: list[Cell] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == '"':
            parts, j = [], i + 1
            while True:
                k = text.find('"', j)
                if k < 0:
                    raise CsvEditError("aanhalingsteken zonder einde")
                parts.append(text[j:k])
                if text.startswith('""', k):
                    parts.append('"')
                    j = k + 2
                    continue
                j = k + 1
                break
            if j < n and text[j] not in ",\r\n":
                raise CsvEditError("tekst na een afsluitend aanhalingsteken")
            row.append(Cell("".join(parts), i, j, True))
        else:
            j = i
            while j < n and text[j] not in ",\r\n":
                j += 1
            row.append(Cell(text[i:j], i, j, False))
        i = j
        if i < n and text[i] == ",":
            i += 1
            if i == n or text[i] in "\r\n":
                row.append(Cell("", i, i, False))  # a trailing empty cell
            else:
                continue
        if i < n and text[i] in "\r\n":
            i += 2 if text.startswith("\r\n", i) else 1
        rows.append([] if len(row) == 1 and not row[0].quoted and not row[0].value else row)
        row = []
    return rows


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def set_cell(path: Path, key_column: str, key: str, column: str, value: str) -> bool:
    """Set `column` of the row whose `key_column` is `key`; False when it already holds `value`.

    Written atomically (temp file, fsync, rename, fsync of the folder); the file's
    mode, BOM, line endings, quoting and every other cell stay byte for byte.
    """
    data = path.read_bytes()
    bom = data.startswith(BOM)
    text = data[len(BOM):].decode("utf-8") if bom else data.decode("utf-8")
    rows = tokenize(text)
    parsed = _csv_rows(text)
    if [[c.value for c in r] for r in rows] != parsed:
        raise CsvEditError("het bestand is anders opgemaakt dan verwacht")
    header = next((r for r in rows if r), [])
    names = [c.value.strip().lower() for c in header]
    if key_column not in names or column not in names:
        raise CsvEditError(f"kolom {key_column} of {column} ontbreekt")
    k, col = names.index(key_column), names.index(column)
    found = [r for r in rows if r and r is not header and len(r) > k and r[k].value.strip() == key]
    if len(found) != 1:
        raise CsvEditError(f"{len(found)} regels met {key_column} '{key}'")
    row = found[0]
    if len(row) <= col:
        raise CsvEditError(f"de regel van '{key}' heeft geen kolom {column}")
    cell = row[col]
    if cell.value.strip() == value:
        return False
    new = f'"{value.replace(chr(34), chr(34) * 2)}"' if cell.quoted else value
    edited = text[:cell.start] + new + text[cell.end:]
    parsed[rows.index(row)][col] = value  # what the edit must give; not needed as read any more
    if parsed != _csv_rows(edited):
        raise CsvEditError("de wijziging raakt meer dan die ene cel")
    store.write_file(path, (BOM if bom else b"") + edited.encode("utf-8"),
                     mode=path.stat().st_mode & 0o7777)
    return True


def append_row(path: Path, data: bytes, fields, row: dict) -> None:
    """Append one row to an audit CSV whose current bytes are `data` (header first when empty,
    a torn last line ended first), fsynced, owner-only."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fields, lineterminator="\n")
    if not data:
        writer.writeheader()
    elif not data.endswith(b"\n"):
        buffer.write("\n")  # end a torn line first
    writer.writerow({k: row[k] for k in fields})
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, buffer.getvalue().encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
