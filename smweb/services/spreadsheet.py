"""CSV files the app writes (the audit trail, reports), safe to open in a spreadsheet.

A cell that starts with =, +, -, @, a tab or a carriage return is read by Excel, LibreOffice
and Google Sheets as a formula (=HYPERLINK(...) and worse), and some of what we write comes
from anyone: a user agent is whatever a failed sign-in sent. Such a cell gets a leading
apostrophe, as OWASP's advice on CSV injection says: shown as text, never run."""

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """The value as a cell that a spreadsheet shows and never evaluates."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: list[str], rows: Iterable[Iterable]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return out.getvalue()
