"""A release's details file: the title and artists of each file of a batch, as CSV
(columns file, title, artist; artists separated by ";") or JSON lines ({"file", "title",
"artists": [...]}). Read the same way by `realmark sign --metadata` and `POST /v1/batches`."""

from __future__ import annotations

import csv
import json

from realmark.errors import BadInput

COLUMNS = ("file", "title", "artist")
RENAMED = {".webm": ".mkv"}  # the signed file's container differs (signer/segments.py, output_container)

Rows = dict[str, tuple[str, tuple[str, ...]]]  # output name -> (title, artists)


def output_name(name: str) -> str:
    """The signed file's name: a WebM is published as Matroska."""
    stem, dot, suffix = name.rpartition(".")
    renamed = RENAMED.get(f"{dot}{suffix}".lower())
    return f"{stem}{renamed}" if renamed else name


def read_rows(text: str, *, jsonl: bool, where: str) -> Rows:
    """Output name -> (title, artists). BadInput names the line of any bad row."""
    rows: Rows = {}
    if jsonl:
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                file, title, artists = row["file"], row["title"], row["artists"]
            except (ValueError, KeyError, TypeError):
                raise BadInput(f"{where}:{number}: expected a JSON object with file, title and artists") from None
            if not isinstance(artists, list):
                raise BadInput(f"{where}:{number}: artists must be a list")
            _add(rows, where, number, file, title, artists)
    else:
        reader = csv.DictReader(text.splitlines())
        if reader.fieldnames is None or not set(COLUMNS) <= set(reader.fieldnames):
            raise BadInput(f"{where}: a CSV metadata file needs the columns {', '.join(COLUMNS)}")
        for number, row in enumerate(reader, 2):
            _add(rows, where, number, row["file"], row["title"], (row["artist"] or "").split(";"))
    return rows


def _add(rows: Rows, where: str, number: int, file, title, artists) -> None:
    if not isinstance(file, str) or not isinstance(title, str) or not all(isinstance(a, str) for a in artists):
        raise BadInput(f"{where}:{number}: file, title and artists must be text")
    name = output_name(file.strip())
    if name in rows:
        raise BadInput(f"{where}:{number}: a second row for {file}")
    rows[name] = (title, tuple(a.strip() for a in artists if a.strip()))
