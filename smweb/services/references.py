"""A message's reference number: what a patient reads out to the help desk, and what staff
type into search to find that message.

It is made from the message's id, with a check digit (Damm's algorithm, from python-stdnum:
every single wrong digit and every swap of two neighbouring digits is caught), so a number
misheard over the phone finds nothing rather than someone else's message:
"SM-0001234-0" is message 1234.
"""

import re

from stdnum import damm

# As typed: "SM-0001234-0", "sm 0001234 0", "SM00012340"; or without the letters, only in
# the printed grouping ("0001234-0"), so that a search for a plain number stays a search.
_WITH_LETTERS = re.compile(r"SM[\s-]*(\d{7,11})[\s-]*(\d)", re.I)
_DIGITS_ONLY = re.compile(r"(\d{7,11})-(\d)")


def of(message_id: int) -> str:
    """The message's reference number, as it is shown and printed."""
    digits = f"{message_id:07d}"
    return f"SM-{digits}-{damm.calc_check_digit(digits)}"


def message_id_of(text: str) -> int | None:
    """The id of the message a typed reference number names, or None when the text is not
    one (a wrong check digit included)."""
    text = (text or "").strip()
    found = _WITH_LETTERS.fullmatch(text) or _DIGITS_ONLY.fullmatch(text)
    if found is None:
        return None
    digits = found.group(1) + found.group(2)
    return int(found.group(1)) if damm.is_valid(digits) else None
