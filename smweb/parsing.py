"""What a request says, read at the edge, once: ids, and paths back into the site.

Anything a person (or a crafted request) can send is read here before it reaches a query or
a header. "²" passes str.isdigit() but not int(); Python's int() reads "١٢" and numbers
past what the databases hold; a CR or LF in a redirect target breaks the header. Each of
those is simply no id, or no path (the caller answers 400/404/422), never a 500."""

from urllib.parse import urlsplit

# The largest id: what the databases' INTEGER holds (on PostgreSQL, 32 bits).
MAX_ID = 2**31 - 1


def as_id(value: object) -> int | None:
    """A database id written in ASCII digits, 1 to MAX_ID; None for anything else."""
    if not isinstance(value, str) or not (0 < len(value) <= 10):
        return None
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def as_ids(values: list[str]) -> list[int]:
    """The ids among `values`, in order; what is not one is left out."""
    return [number for value in values if (number := as_id(value)) is not None]


def as_index(value: object, size: int) -> int | None:
    """A position 0 to size-1 written in ASCII digits; None for anything else."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or \
            len(value) > 4:
        return None
    return int(value) if int(value) < size else None


def local_path(target: str | None, prefixes: tuple[str, ...] = ("/",)) -> str | None:
    """A path on this site starting with one of `prefixes`, fit for a Location header;
    None for another host, a scheme, a protocol-relative or backslashed URL, or control
    characters (CR, LF, tab...)."""
    if not target or len(target) > 2000 or not target.startswith(prefixes):
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target


def coerce_id(value: object) -> int:
    """For a form field that names a database row (coerce=coerce_id): an int is kept, text
    must be an id (or "0", a field's "none chosen"); anything else is the field's own error
    ("Not a valid choice"), never a number the database can't hold."""
    if isinstance(value, int) and 0 <= value <= MAX_ID:
        return value
    if value == "0":
        return 0
    if (number := as_id(value)) is None:
        raise ValueError("Not a valid choice.")
    return number
