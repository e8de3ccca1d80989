"""
CSV export of an item queryset, produced chunk by chunk for a `StreamingHttpResponse`.

Rows are read with `.iterator()` (a server-side cursor on PostgreSQL) and written a chunk at
a time, so memory stays flat however many rows there are.
"""

import csv
import io
from collections.abc import Iterator

COLUMNS = ["id", "title", "description", "owner", "created_at", "updated_at"]
CHUNK_SIZE = 2000

# A cell starting with one of these is run as a formula by spreadsheet programs
# (OWASP "CSV injection"); a leading apostrophe makes them show it as text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


def isoformat(value) -> str:
    """The timestamp as the JSON API writes it (ISO 8601, `Z` for UTC)."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def csv_chunks(queryset, *, chunk_size: int | None = None) -> Iterator[str]:
    """The header, then the rows in chunks of `chunk_size`, quoted by the csv module."""
    chunk_size = chunk_size or CHUNK_SIZE
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield _drain(buffer)
    rows = queryset.values_list(
        "id", "title", "description", "owner_id", "created_at", "updated_at"
    ).iterator(chunk_size=chunk_size)
    for count, (pk, title, description, owner_id, created_at, updated_at) in enumerate(rows, 1):
        writer.writerow(
            [
                pk,
                neutralise(title),
                neutralise(description),
                owner_id,
                isoformat(created_at),
                isoformat(updated_at),
            ]
        )
        if count % chunk_size == 0:
            yield _drain(buffer)
    if rest := _drain(buffer):
        yield rest


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return text
