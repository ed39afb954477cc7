"""Words of an emergency in a patient's message: caught before it is sent, so the patient is
told not to wait for a reply but to call (911, the crisis line, their team), and may still
send it: it then tops the team's queue, flagged "possible urgent" (queue.possibly_urgent).

Matched on whole words, never inside another word ("stroke" is not in "brushstroke"), with
case, apostrophes (can't, can’t, cant) and spacing ignored, and a plural or "-ed" allowed on
a phrase's last word (chest pains, seizures)."""

import re
from functools import cache

from flask import current_app

_APOSTROPHES = re.compile(r"['’‘`´]")
_NOT_A_LETTER = re.compile(r"[^\w]+")


def _words(text: str) -> list[str]:
    return _NOT_A_LETTER.sub(" ", _APOSTROPHES.sub("", text.casefold())).split()


@cache
def _patterns(phrases: tuple[str, ...]) -> list[tuple[str, re.Pattern]]:
    patterns = []
    for phrase in phrases:
        if words := _words(phrase):
            *head, last = (re.escape(w) for w in words)
            patterns.append((phrase, re.compile(
                r"(?<!\S)" + " ".join([*head, f"{last}(?:s|es|d|ed)?"]) + r"(?!\S)")))
    return patterns


def words_in(text: str, phrases: list[str] | None = None) -> list[str]:
    """The emergency phrases of the list that the text holds, as the list writes them; none
    when there are none. `phrases`: the site's list (URGENT_WORDS) unless given."""
    if phrases is None:
        phrases = current_app.config["URGENT_WORDS"]
    words = " ".join(_words(text))
    return [phrase for phrase, pattern in _patterns(tuple(phrases)) if pattern.search(words)]
