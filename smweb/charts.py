"""Bar charts drawn on the server as inline SVG, for the reports staff read (response times,
share answered in time).

The page's Content Security Policy is `style-src 'self'`, so the SVG carries no `style`
attribute and no `<style>` element: geometry is in presentation attributes, colours come from
the `chart-*` classes in static/css/smweb.css. The SVG scales to its container through its
viewBox, so its text scales with it; each label has a row of its own above its bar, which
leaves the whole width for the label on a 320 px phone."""

import math
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

SVG_NAMESPACE = "http://www.w3.org/2000/svg"

# The drawing's own units: the viewBox is WIDTH wide and grows ROW per bar.
WIDTH = 600
EDGE = 8
FULL_BAR = WIDTH - 2 * EDGE
LABEL_ROW = 30
BAR_HEIGHT = 30
ROW_GAP = 20
ROW = LABEL_ROW + BAR_HEIGHT + ROW_GAP
# With FONT_SIZE and WIDTH chosen together, about 45 characters of a label fit on its line,
# and on a 320 px phone (a 288 px column) the text is still about 10.5 px high.
FONT_SIZE = 22
VALUE_GAP = 6

# How wide a character is, in ems, to tell whether a label fits its line and a value fits
# after its bar. The server cannot measure the reader's font, so these are generous: DejaVu
# Sans's widths (wider than Segoe UI, Roboto or Arial), rounded up.
_NARROW = frozenset("ijlIJ'.,:;!|")
_SLIM = frozenset("frt()[]/- ")
_WIDE = frozenset("mwMW%&@…")

# Characters XML 1.0 does not allow; a team name pasted with one would make the SVG
# unreadable to an XML parser (and a hover title show a box).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# An id the page can use as it is: no space (aria-labelledby is a list), nothing to escape.
_CHART_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")


@dataclass(frozen=True)
class Bar:
    """One bar: what it is about, the number that sets its length, and the text at its end."""

    label: str
    value: float
    shown: str


def bar_chart(title: str, bars: list[Bar] | tuple[Bar, ...], maximum: float | None = None,
              chart_id: str = "chart") -> Markup:
    """A horizontal bar chart as an inline <svg>, labelled by `title` and described in words.

    `maximum` is the value of a full-length bar (by default the largest value); a value above
    it is drawn full length, a negative one at zero. Each chart on a page needs its own
    `chart_id`, since its title and description ids are made from it."""
    if not _CHART_ID.match(chart_id):
        raise ValueError(f"chart_id must be letters, digits, '-' or '_': {chart_id!r}")
    bars = list(bars)
    if maximum is None:
        maximum = max((float(bar.value) for bar in bars if math.isfinite(bar.value)), default=0)
    height = 2 * EDGE + (len(bars) * ROW - ROW_GAP if bars else LABEL_ROW)
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [
        f'<svg xmlns="{SVG_NAMESPACE}" class="chart" width="100%"'
        f' viewBox="0 0 {WIDTH} {_number(height)}" font-size="{FONT_SIZE}"'
        f' role="img" aria-labelledby="{title_id} {desc_id}" focusable="false">',
        f'<title id="{title_id}">{_text(title)}</title>',
        f'<desc id="{desc_id}">{_text(_description(bars))}</desc>',
    ]
    if not bars:
        parts.append(f'<text class="chart-empty" x="{EDGE}" y="{EDGE + FONT_SIZE}">'
                     "No figures to show.</text>")
    for index, bar in enumerate(bars):
        parts.append(_bar_row(bar, maximum, top=EDGE + index * ROW))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through _text()


def _bar_row(bar: Bar, maximum: float, top: float) -> str:
    """One bar's group: its label line, the bar, and its shown value after (or inside) it."""
    length = FULL_BAR * _share(bar.value, maximum)
    label = _clean(bar.label)
    short = _fitted(label)
    bar_top = top + LABEL_ROW
    # The value's baseline sits so its digits look centred on the bar.
    value_y = bar_top + BAR_HEIGHT / 2 + FONT_SIZE * 0.35
    value_width = _text_width(_clean(bar.shown)) + VALUE_GAP
    # A nearly full bar has no room after it; its value goes inside its end instead, so it
    # never runs off the chart (unless the value is wider than the bar itself).
    inside = EDGE + length + value_width > WIDTH - EDGE and value_width + VALUE_GAP <= length
    if inside:
        value = (f'<text class="chart-value chart-value--inside"'
                 f' x="{_number(EDGE + length - VALUE_GAP)}" y="{_number(value_y)}"'
                 ' text-anchor="end">')
    else:
        value = (f'<text class="chart-value" x="{_number(EDGE + length + VALUE_GAP)}"'
                 f' y="{_number(value_y)}">')
    return "".join([
        '<g class="chart-row">',
        # The whole label, for the hover, when the line shows only its start.
        f"<title>{_text(label)}</title>" if short != label else "",
        f'<text class="chart-label" x="{EDGE}" y="{_number(top + FONT_SIZE)}">'
        f"{_text(short)}</text>",
        f'<rect class="chart-bar" x="{EDGE}" y="{_number(bar_top)}"'
        f' width="{_number(length)}" height="{BAR_HEIGHT}"/>',
        value, _text(bar.shown), "</text>",
        "</g>",
    ])


def _fitted(label: str) -> str:
    """`label` as it fits on its line: whole, or its start and "…"."""
    if _text_width(label) <= FULL_BAR:
        return label
    room, kept = FULL_BAR - _text_width("…"), 0
    for character in label:
        room -= _text_width(character)
        if room < 0:
            break
        kept += 1
    return label[:kept].rstrip() + "…"


def _text_width(text: str) -> float:
    """A generous guess at how wide `text` is drawn at FONT_SIZE, in the drawing's units."""
    ems = 0.0
    for character in text:
        if character in _NARROW:
            ems += 0.32
        elif character in _SLIM:
            ems += 0.42
        elif character in _WIDE or ord(character) >= 0x1100:  # and Hangul, CJK, emoji...
            ems += 1.0
        elif character.isupper() or not character.isascii():
            ems += 0.8
        else:
            ems += 0.65
    return ems * FONT_SIZE


def _share(value: float, maximum: float) -> float:
    """How much of a full bar `value` fills: 0 to 1, and 0 when there is no maximum."""
    value, maximum = float(value), float(maximum)
    if not maximum > 0 or math.isnan(value):
        return 0.0
    if math.isinf(maximum):
        return 1.0 if value == maximum else 0.0
    return min(max(value / maximum, 0.0), 1.0)


def _description(bars: list[Bar]) -> str:
    """The chart in words: each whole label with its shown value."""
    if not bars:
        return "No figures to show."
    return "; ".join(f"{_clean(bar.label)}: {_clean(bar.shown)}" for bar in bars)


def _clean(text: str) -> str:
    """`text` without the characters XML cannot hold."""
    return _NOT_XML.sub("", str(text))


def _text(text: str) -> str:
    """`text` fit for an SVG element's content."""
    return str(escape(_clean(text)))


def _number(number: float) -> str:
    """A coordinate with at most one decimal and no trailing zero: 292, 146.5."""
    shown = f"{round(number, 1):.1f}".rstrip("0").rstrip(".")
    return "0" if shown == "-0" else shown
