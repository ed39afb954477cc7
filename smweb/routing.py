"""URL converters."""

from werkzeug.routing import IntegerConverter

# The largest id: what the databases' INTEGER holds (on PostgreSQL, 32 bits).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """A database id: a positive integer the databases can hold. A larger number is simply
    not found (404), never an overflow (500)."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)
