"""Words of an emergency in a patient's message: caught before it is sent, so the patient is
told not to wait for a reply but to call (911, the crisis line, their team), and may still
send it: it then tops the team's queue, flagged "possible urgent" (queue.possibly_urgent).

Matched on whole words, never inside another word ("stroke" is not in "brushstroke"), with
case, accents (presión, presion), apostrophes (can't, can’t, cant), invisible characters and
spacing ignored, and the usual endings allowed on each word (chest pains, seizures, killing
myself, overdosing, and "can't breath", a final e dropped)."""

import re
import unicodedata
from functools import cache

from flask import current_app

_APOSTROPHES = re.compile(r"['’‘`´]")
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")  # soft hyphen, zero width
_NOT_A_LETTER = re.compile(r"[^\w]+")
# What a word may end with and still be that word: plural, past, -ing (kill → killing).
_ENDINGS = "(?:s|es|d|ed|ing)?"


def _without_accents(text: str) -> str:
    """"presión" as "presion", "daño" as "dano": a phrase matches however it was typed."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(ch))


def _words(text: str) -> list[str]:
    text = _INVISIBLE.sub("", _APOSTROPHES.sub("", _without_accents(text.casefold())))
    return _NOT_A_LETTER.sub(" ", text).split()


def _stem(word: str) -> str:
    """A phrase's word as a pattern: its endings allowed (a final e may drop: overdose →
    overdosing, breathe → breath)."""
    base = word[:-1] if word.endswith("e") and len(word) > 3 else word
    tail = "e?" if base != word else ""
    return re.escape(base) + tail + _ENDINGS


@cache
def _patterns(phrases: tuple[str, ...]) -> list[tuple[str, re.Pattern]]:
    patterns = []
    for phrase in phrases:
        if words := _words(phrase):
            patterns.append((phrase, re.compile(
                r"(?<!\S)" + " ".join(_stem(w) for w in words) + r"(?!\S)")))
    return patterns


def words_in(text: str, phrases: list[str] | None = None) -> list[str]:
    """The emergency phrases of the list that the text holds, as the list writes them; none
    when there are none. `phrases`: the site's list (URGENT_WORDS) unless given."""
    if phrases is None:
        phrases = current_app.config["URGENT_WORDS"]
    words = " ".join(_words(text))
    return [phrase for phrase, pattern in _patterns(tuple(phrases)) if pattern.search(words)]
