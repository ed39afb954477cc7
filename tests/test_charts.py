"""smweb.charts: the reports' bar charts, read back as XML and checked by their numbers: bar
lengths against the values, the words a screen reader gets, escaping, and nothing a
`style-src 'self'` policy would refuse."""

import re
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from smweb.charts import Bar, bar_chart

SVG = "{http://www.w3.org/2000/svg}"
TEAMS = [Bar("Primary Care Team Blue", 92.5, "92.5%"), Bar("Cardiology", 40.0, "40%")]


def _svg(markup: str) -> ET.Element:
    """The chart's root element, parsed as XML (so malformed output fails the test)."""
    root = ET.fromstring(str(markup))  # noqa: S314 - our own output, built by the test
    assert root.tag == f"{SVG}svg"
    return root


def _widths(root: ET.Element) -> list[float]:
    """Each bar's drawn length, in order."""
    return [float(rect.get("width")) for rect in root.iter(f"{SVG}rect")
            if rect.get("class") == "chart-bar"]


def _view_width(root: ET.Element) -> float:
    """The width of the drawing, from its viewBox."""
    return float(root.get("viewBox").split()[2])


def _texts(root: ET.Element, css_class: str) -> list[ET.Element]:
    """The <text> elements with `css_class` among their classes."""
    return [text for text in root.iter(f"{SVG}text")
            if css_class in text.get("class", "").split()]


def test_one_bar_per_figure():
    """Each figure gets one bar, one label and one value, in the order given."""
    bars = [Bar("Blue", 3, "3"), Bar("Green", 2, "2"), Bar("Gold", 1, "1")]
    root = _svg(bar_chart("Threads answered", bars, chart_id="answered"))
    assert len(root.findall(f"{SVG}g/{SVG}rect")) == 3
    assert len(_widths(root)) == 3
    assert [text.text for text in _texts(root, "chart-label")] == ["Blue", "Green", "Gold"]
    assert [text.text for text in _texts(root, "chart-value")] == ["3", "2", "1"]


def test_bar_lengths_follow_the_values():
    """Half the maximum draws half a full bar, a quarter a quarter (within rounding)."""
    bars = [Bar("Full", 100, "100%"), Bar("Half", 50, "50%"), Bar("Quarter", 25, "25%"),
            Bar("Tenth", 10, "10%")]
    full, half, quarter, tenth = _widths(_svg(bar_chart("Share", bars, maximum=100)))
    assert full > 0.8 * _view_width(_svg(bar_chart("Share", bars, maximum=100)))
    assert half == pytest.approx(full / 2, abs=0.1)
    assert quarter == pytest.approx(full / 4, abs=0.1)
    assert tenth == pytest.approx(full / 10, abs=0.1)


def test_maximum_defaults_to_the_largest_value():
    """Without a maximum the largest value is full length and the others are in proportion."""
    widths = _widths(_svg(bar_chart("Hours to answer", [Bar("A", 4, "4 h"), Bar("B", 8, "8 h"),
                                                        Bar("C", 2, "2 h")])))
    full = _widths(_svg(bar_chart("Hours to answer", [Bar("A", 8, "8 h")], maximum=8)))[0]
    assert full > 0
    assert widths[1] == full
    assert widths[0] == pytest.approx(widths[1] / 2, abs=0.1)
    assert widths[2] == pytest.approx(widths[1] / 4, abs=0.1)


def test_values_beyond_the_scale_are_clamped():
    """A value above the maximum is drawn full length, not past it; a negative one at zero."""
    bars = [Bar("At maximum", 100, "100%"), Bar("Above", 150, "150%"), Bar("Below", -20, "-20%")]
    root = _svg(bar_chart("Share", bars, maximum=100))
    at_maximum, above, below = _widths(root)
    assert at_maximum > 0
    assert above == at_maximum
    assert below == 0
    for rect in root.iter(f"{SVG}rect"):
        assert float(rect.get("x")) + float(rect.get("width")) <= _view_width(root)


@pytest.mark.parametrize("bars, maximum", [
    ([Bar("Blue", 0, "0"), Bar("Green", 0.0, "0")], None),
    ([Bar("Blue", 0, "0"), Bar("Green", 5, "5")], 0),
    ([Bar("Blue", -3, "-3")], None),
    ([], None),
    ([], 100),
])
def test_nothing_to_measure_draws_no_length(bars, maximum):
    """All zeros, a zero maximum or no bars at all: every bar has no length, and no error."""
    root = _svg(bar_chart("Threads answered", bars, maximum=maximum))
    assert _widths(root) == [0.0] * len(bars)
    assert float(root.get("viewBox").split()[3]) > 0


def test_title_and_description_label_the_chart():
    """The svg is one image, named by its title and described by its desc, by their ids."""
    root = _svg(bar_chart("Answered within 3 business days", TEAMS, maximum=100,
                          chart_id="within"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby").split() == ["within-title", "within-desc"]
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title.get("id") == "within-title"
    assert title.text == "Answered within 3 business days"
    assert desc.get("id") == "within-desc"
    assert root[0] is title  # the chart's name comes first, before any bar's own title


def test_two_charts_have_their_own_ids():
    """Two charts on one page do not share an id."""
    first = _svg(bar_chart("Within", TEAMS, chart_id="within"))
    second = _svg(bar_chart("Hours", TEAMS, chart_id="hours"))
    ids = {element.get("id") for root in (first, second) for element in root.iter()
           if element.get("id")}
    assert ids == {"within-title", "within-desc", "hours-title", "hours-desc"}


@pytest.mark.parametrize("chart_id", ["", "two words", "9lives", 'x"y', "a<b"])
def test_a_chart_id_the_page_cannot_use_is_refused(chart_id):
    """An id with a space (aria-labelledby is a list) or markup in it is a mistake."""
    with pytest.raises(ValueError):
        bar_chart("Within", TEAMS, chart_id=chart_id)


def test_description_reads_every_label_with_its_value():
    """The desc says in words what the bars show: each whole label and its shown text."""
    long_name = "Women's Health and Maternity Care Coordination Team North"
    bars = [*TEAMS, Bar(long_name, 10, "10%")]
    desc = _svg(bar_chart("Within", bars, maximum=100)).find(f"{SVG}desc").text
    assert desc == f"Primary Care Team Blue: 92.5%; Cardiology: 40%; {long_name}: 10%"


def test_empty_chart_says_so():
    """A chart with no bars says there is nothing to show, on screen and in its desc."""
    root = _svg(bar_chart("Within", []))
    assert root.find(f"{SVG}desc").text == "No figures to show."
    assert [text.text for text in _texts(root, "chart-empty")] == ["No figures to show."]


def test_no_inline_style_for_the_content_security_policy():
    """`style-src 'self'` refuses style attributes and <style>: colours are classes only."""
    root = _svg(bar_chart("Within", [*TEAMS, Bar("Full", 100, "100%")], maximum=100))
    elements = list(root.iter())
    assert [element for element in elements if element.get("style") is not None] == []
    assert [element for element in elements if element.tag == f"{SVG}style"] == []
    assert root.get("class") == "chart"
    assert {rect.get("class") for rect in root.iter(f"{SVG}rect")} == {"chart-bar"}
    assert all(element.get("fill") is None for element in elements)


def test_the_chart_scales_to_its_column():
    """A viewBox and a width of 100% with no fixed height: it fits a 320 px phone."""
    root = _svg(bar_chart("Within", TEAMS))
    assert root.get("width") == "100%"
    assert root.get("height") is None
    assert re.fullmatch(r"0 0 \d+(\.\d)? \d+(\.\d)?", root.get("viewBox"))


def test_team_names_are_text_not_markup():
    """A team called `<A & B>` reads as that text everywhere, and adds no element."""
    name, title, shown = "<A & B>", 'Answered "on time" & <b>soon</b>', "<1 h"
    markup = str(bar_chart(title, [Bar(name, 1, shown)]))
    assert "&lt;A &amp; B&gt;" in markup
    assert "<A" not in markup and "<b>" not in markup
    root = _svg(markup)
    assert [text.text for text in _texts(root, "chart-label")] == [name]
    assert [text.text for text in _texts(root, "chart-value")] == [shown]
    assert root.find(f"{SVG}title").text == title
    assert root.find(f"{SVG}desc").text == f"{name}: {shown}"
    assert {element.tag for element in root.iter()} == {
        f"{SVG}{tag}" for tag in ("svg", "title", "desc", "g", "text", "rect")}


def test_characters_xml_cannot_hold_are_left_out():
    """A control character pasted into a team name does not break the SVG."""
    root = _svg(bar_chart("Within", [Bar("Blue\x00 team\x1b", 1, "1\x07")]))
    assert _texts(root, "chart-label")[0].text == "Blue team"
    assert _texts(root, "chart-value")[0].text == "1"


def test_a_long_label_is_shortened_with_the_whole_on_hover():
    """A label too long for its line ends in "…"; the whole label is its bar's hover title."""
    long_name = "Women's Health and Maternity Care Coordination Team North & South"
    root = _svg(bar_chart("Within", [Bar(long_name, 10, "10%"), Bar("Cardiology", 5, "5%")]))
    long_row, short_row = root.findall(f"{SVG}g")
    label = long_row.find(f"{SVG}text").text
    assert label.endswith("…")
    assert len(label) <= 48
    assert long_name.startswith(label[:-1])
    assert [title.text for title in long_row.findall(f"{SVG}title")] == [long_name]
    assert short_row.find(f"{SVG}text").text == "Cardiology"
    assert short_row.findall(f"{SVG}title") == []


@pytest.mark.parametrize("name", ["Mental Health Outpatient Services, Team 2",
                                  "Primary Care Team Blue", "x" * 40, "i" * 80])
def test_a_label_that_fits_is_whole(name):
    """A label that fits its line is shown whole, with no hover title."""
    row = _svg(bar_chart("Within", [Bar(name, 1, "1")])).find(f"{SVG}g")
    assert row.find(f"{SVG}text").text == name
    assert row.findall(f"{SVG}title") == []


def test_wide_letters_are_shortened_sooner():
    """Thirty W's are wider than the line though far fewer than 48 characters."""
    name = "W" * 30
    row = _svg(bar_chart("Within", [Bar(name, 1, "1")])).find(f"{SVG}g")
    assert row.find(f"{SVG}text").text.endswith("…")
    assert row.find(f"{SVG}title").text == name


def test_each_value_is_shown_at_its_bar():
    """The shown text follows its bar, or sits inside the end of a nearly full one."""
    bars = [Bar("Full", 99, "99.0%"), Bar("Short", 10, "10.0%")]
    root = _svg(bar_chart("Within", bars, maximum=100))
    full_width, short_width = _widths(root)
    full_value, short_value = _texts(root, "chart-value")
    assert [full_value.text, short_value.text] == ["99.0%", "10.0%"]
    # Inside the full bar's end, anchored there, so it cannot run off the right edge.
    assert full_value.get("text-anchor") == "end"
    assert "chart-value--inside" in full_value.get("class").split()
    assert float(full_value.get("x")) <= float(root.find(f"{SVG}g/{SVG}rect").get("x")) + \
        full_width
    # After the short bar's end, starting where it stops.
    assert short_value.get("text-anchor") in (None, "start")
    assert "chart-value--inside" not in short_value.get("class").split()
    short_rect = root.findall(f"{SVG}g/{SVG}rect")[1]
    assert float(short_value.get("x")) > float(short_rect.get("x")) + short_width


def test_each_label_is_above_its_bar():
    """Each bar has two rows: its label line, then the bar, and the next bar comes after."""
    root = _svg(bar_chart("Within", TEAMS, maximum=100))
    bottom = 0.0
    for row in root.findall(f"{SVG}g"):
        label, rect = row.find(f"{SVG}text"), row.find(f"{SVG}rect")
        assert bottom < float(label.get("y")) <= float(rect.get("y"))
        bottom = float(rect.get("y")) + float(rect.get("height"))
    assert bottom <= float(root.get("viewBox").split()[3])


def test_the_same_figures_draw_the_same_chart():
    """Same input, same string; every number in an attribute has at most one decimal."""
    bars = [Bar("Blue", 1 / 3, "0.3"), Bar("Green", 2 / 3, "0.7"), Bar("Gold", 1, "1")]
    first = bar_chart("Thirds", bars, maximum=1, chart_id="thirds")
    assert first == bar_chart("Thirds", list(bars), maximum=1, chart_id="thirds")
    for element in _svg(first).iter():
        for name in ("x", "y", "width", "height"):
            if element.get(name) not in (None, "100%"):
                assert re.fullmatch(r"\d+(\.\d)?", element.get(name)), (name, element.attrib)


def test_the_chart_is_markup_for_the_template():
    """It comes back as Markup, so Jinja puts it in the page as it is rather than escaped."""
    assert isinstance(bar_chart("Within", TEAMS), Markup)
