"""URL converters."""

from werkzeug.routing import IntegerConverter

from .parsing import MAX_ID


class IdConverter(IntegerConverter):
    """A database id: a positive integer the databases can hold. A larger number is simply
    not found (404), never an overflow (500)."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)
