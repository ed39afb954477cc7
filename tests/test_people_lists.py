"""The lists of people: the coordinator's Patients and the admin's accounts, searched by any
part of a name or username and read A to Z a page at a time — every name once, whatever the
page, the search kept on every link, the htmx answer just the list, odd input answered with
the first page or a message, and the same statements for ten patients or two hundred."""

import re
from html import unescape
from urllib.parse import urlencode

import pytest

from smweb.extensions import db
from smweb.models import Facility, TriageGroup
from smweb.services import people
from tests.support import care_team, count_statements, htmx_fragment, patient, sign_in

NAME_CELL = re.compile(r'<td data-label="Name"><a href="/triage/patients/\d+">([^<]*)</a>')
USERNAME_CELL = re.compile(r'<td data-label="Username"><a href="/admin/users/\d+">([^<]*)</a>')
NEXT = re.compile(r'<a href="([^"]+)" rel="next">Next</a>')
PREVIOUS = re.compile(r'<a href="([^"]+)" rel="prev">Previous</a>')
DEMO_PATIENTS = ["Alex Rivera", "Jordan Smith"]  # the demo facility's (basic1 has no team)


def page_text(client, path: str, headers: dict | None = None) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code)
    return unescape(response.get_data(as_text=True))


def link(pattern: re.Pattern, html: str) -> str | None:
    found = pattern.search(html)
    return found.group(1) if found else None


def walk(client, path: str, cells: re.Pattern = NAME_CELL) -> list[list[str]]:
    """The rows of every page of a list, following its Next links from `path`."""
    pages = []
    while path:
        html = page_text(client, path)
        pages.append(cells.findall(html))
        path = link(NEXT, html)
        assert len(pages) < 20, "the Next links never end"
    return pages


@pytest.fixture
def coordinator(client):
    sign_in(client, "coordinator1")
    return client


@pytest.fixture
def admin(app):
    other = app.test_client()
    sign_in(other, "admin1")
    return other


@pytest.fixture
def add_patients(app):
    """add_patients(count, name) -> the names of `count` new patients of a new care team at
    the demo facility (the coordinator's), "<name> 000", "<name> 001", ..."""
    with app.app_context():
        facility = db.session.scalar(db.select(Facility).where(
            Facility.name == "Demo VA Medical Center"))
        team_id = care_team(facility=facility).id
        db.session.remove()
    made = 0

    def add(count: int, name: str = "Paged Patient") -> list[str]:
        nonlocal made
        with app.app_context():
            team = db.session.get(TriageGroup, team_id)
            names = [patient(team, name=f"{name} {n:03d}").display_name
                     for n in range(made, made + count)]
            db.session.remove()
        made += count
        return names

    return add


# --- searching ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "found"), [
    ("rivera", ["Alex Rivera"]),
    ("RIVERA", ["Alex Rivera"]),
    ("x rIv", ["Alex Rivera"]),  # any part, across the space
    ("eteran2", ["Jordan Smith"]),  # part of the username veteran2
    ("veteran", ["Alex Rivera", "Jordan Smith"]),
    ("  smith  ", ["Jordan Smith"]),
    ("nobody like this", []),
])
def test_the_coordinator_finds_patients_by_part_of_a_name_or_username(coordinator, typed,
                                                                      found):
    html = page_text(coordinator, searched(typed))
    assert NAME_CELL.findall(html) == found
    assert f'value="{typed.strip()}"' in html  # the box keeps what was searched
    if not found:
        assert f"No patient’s name or username holds “{typed.strip()}”." in html


def test_without_words_every_patient_in_reach_a_to_z(coordinator, app):
    with app.app_context():
        elsewhere = care_team()  # a facility of its own: not the coordinator's
        patient(elsewhere, name="Aaron Elsewhere")
    assert NAME_CELL.findall(page_text(coordinator, "/triage/patients")) == DEMO_PATIENTS
    assert NAME_CELL.findall(page_text(coordinator, "/triage/patients?q=aaron")) == []


def test_a_group_administrator_finds_only_the_patients_of_their_teams(client, app):
    with app.app_context():
        cardiology = db.session.scalar(db.select(TriageGroup).where(
            TriageGroup.name == "Cardiology"))
        patient(cardiology, name="Carla Cardio")
    sign_in(client, "doctor1")  # group administrator of Primary Care Team Blue only
    assert NAME_CELL.findall(page_text(client, "/triage/patients")) == DEMO_PATIENTS
    assert NAME_CELL.findall(page_text(client, "/triage/patients?q=carla")) == []


def test_the_wildcards_typed_are_matched_as_themselves(coordinator, add_patients):
    add_patients(1, name="Sure_100%")
    add_patients(1, name="Back\\slash")
    for typed, found in (("%", ["Sure_100% 000"]), ("_", ["Sure_100% 000"]),
                         ("e_1", ["Sure_100% 000"]), ("0%", ["Sure_100% 000"]),
                         ("\\", ["Back\\slash 001"]), ("k\\s", ["Back\\slash 001"]),
                         ("a%x", []), ("r_v", [])):
        assert names_of(coordinator, searched(typed)) == found, typed


def searched(typed: str, path: str = "/triage/patients") -> str:
    return f"{path}?{urlencode({'q': typed})}"


def names_of(client, path: str) -> list[str]:
    return NAME_CELL.findall(page_text(client, path))


def test_the_admin_finds_accounts_by_part_of_a_name_or_username(admin):
    # Alex Rivera, and his caregiver Sam Rivera
    assert USERNAME_CELL.findall(page_text(admin, "/admin/?q=rivera")) == ["caregiver1",
                                                                          "veteran1"]
    assert USERNAME_CELL.findall(page_text(admin, "/admin/?q=COORD")) == ["coordinator1"]
    # staff and admins too, by name; A to Z by username
    assert USERNAME_CELL.findall(page_text(admin, "/admin/?q=dr.")) == ["cardio1", "doctor1"]
    everyone = USERNAME_CELL.findall(page_text(admin, "/admin/"))
    assert everyone == sorted(everyone) and "admin1" in everyone and "veteran2" in everyone
    html = page_text(admin, "/admin/?q=zzz")
    assert "No account’s name or username holds “zzz”." in html
    assert "Demo VA Medical Center" in html  # the rest of the page is still there
    assert "Primary Care Team Blue (3 staff, 2 patients)" in html


# --- paging ------------------------------------------------------------------------------------

def test_sixty_patients_page_by_page_with_no_repeats_and_no_gaps(coordinator, add_patients):
    made = add_patients(60)
    pages = walk(coordinator, "/triage/patients")
    assert [len(p) for p in pages] == [people.PER_PAGE, people.PER_PAGE, 12]
    shown = [name for page in pages for name in page]
    assert shown == sorted(DEMO_PATIENTS + made)  # A to Z, each once, none missing
    # ... and back again with Previous, the same pages
    html = page_text(coordinator, "/triage/patients")
    second = page_text(coordinator, link(NEXT, html))
    third = page_text(coordinator, link(NEXT, second))
    assert "Page 3" in third and link(NEXT, third) is None
    back = page_text(coordinator, link(PREVIOUS, third))
    assert NAME_CELL.findall(back) == pages[1] and "Page 2" in back
    first = page_text(coordinator, link(PREVIOUS, back))
    assert NAME_CELL.findall(first) == pages[0] and link(PREVIOUS, first) is None


def test_the_search_words_survive_paging(coordinator, add_patients):
    made = add_patients(60, name="Quinn Paged")
    add_patients(5, name="Other Person")
    pages = walk(coordinator, "/triage/patients?q=quinn")
    assert [len(p) for p in pages] == [25, 25, 10]
    assert [name for page in pages for name in page] == made
    second = link(NEXT, page_text(coordinator, "/triage/patients?q=quinn"))
    assert "q=quinn" in second and "after=" in second
    assert 'value="quinn"' in page_text(coordinator, second)


def test_the_admin_pages_through_every_account(admin, add_patients):
    add_patients(60)
    pages = walk(admin, "/admin/", USERNAME_CELL)
    assert [len(p) for p in pages] == [25, 25, 20]  # 60 and the demo's 10
    shown = [username for page in pages for username in page]
    assert shown == sorted(shown) and len(set(shown)) == 70
    found = walk(admin, searched("paged patient", "/admin/"), USERNAME_CELL)
    assert [len(p) for p in found] == [25, 25, 10]


@pytest.mark.parametrize("args", [
    "page=3", "page=²", "page=99999999999999999999", "after=abc", "after=99999999",
    "after=1~2", "after=-1", "before=abc", "before=0", "after=%F0%9F%99%82", "after=" + "9" * 300,
])
def test_a_hand_edited_page_link_reads_the_first_page(coordinator, add_patients, args):
    add_patients(30)
    first = names_of(coordinator, "/triage/patients")
    assert len(first) == 25
    assert names_of(coordinator, f"/triage/patients?{args}") == first


def test_a_link_to_a_patient_no_longer_there_reads_the_first_page(coordinator, add_patients,
                                                                  app):
    add_patients(30)
    html = page_text(coordinator, "/triage/patients")
    after = link(NEXT, html)
    gone = int(re.search(r"after=(\d+)", after).group(1))
    with app.app_context():
        from smweb.models import User

        name = db.session.get(User, gone).display_name
        db.session.delete(db.session.get(User, gone))
        db.session.commit()
    shown = names_of(coordinator, after)
    assert shown == names_of(coordinator, "/triage/patients")  # the first page as it is now
    assert name in NAME_CELL.findall(html) and name not in shown


# --- odd input -----------------------------------------------------------------------------

def test_an_over_long_search_is_cut_and_says_so(coordinator, admin):
    html = page_text(coordinator, searched("rivera" + "x" * 5000))
    assert "Only the first 100 characters you typed were searched." in html
    assert f'value="rivera{"x" * 94}"' in html
    assert NAME_CELL.findall(html) == []
    assert names_of(coordinator, searched(" " * 200 + "rivera")) == ["Alex Rivera"]
    assert "Only the first 100 characters" in page_text(admin, searched("a" * 101, "/admin/"))


@pytest.mark.parametrize("typed", [
    "' OR 1=1 --", "%' --", "🙂\u202e", "<script>alert(1)</script>", "１２", "\t", "~",
    "\\%\\_", "a" * 100, "",
])
def test_odd_searches_are_answered_with_a_list(coordinator, admin, typed):
    response = coordinator.get(searched(typed))
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.get_data(as_text=True)
    assert NAME_CELL.findall(unescape(response.get_data(as_text=True))) in (
        [], DEMO_PATIENTS)
    assert admin.get(searched(typed, "/admin/")).status_code == 200


def test_a_nul_in_the_search_is_refused_plainly(coordinator):
    assert coordinator.get("/triage/patients?q=riv%00era").status_code == 400


# --- htmx --------------------------------------------------------------------------------------

def test_the_htmx_answer_is_just_the_list(coordinator, admin):
    fragment = page_text(coordinator, "/triage/patients?q=riv", htmx_fragment("patient-list"))
    assert fragment.lstrip().startswith('<section id="patient-list"')
    assert "<html" not in fragment and "<h1>" not in fragment and 'name="q"' not in fragment
    assert NAME_CELL.findall(fragment) == ["Alex Rivera"]
    # a boosted navigation (a link, a plain submit) is the whole page
    whole = coordinator.get("/triage/patients?q=riv", headers={
        "HX-Request": "true", "HX-Boosted": "true", "HX-Target": "body"})
    assert "<html" in whole.get_data(as_text=True)
    assert "HX-Request" in whole.headers["Vary"]

    fragment = page_text(admin, "/admin/?q=riv", htmx_fragment("account-list"))
    assert fragment.lstrip().startswith('<section id="account-list"')
    assert USERNAME_CELL.findall(fragment) == ["caregiver1", "veteran1"]
    assert "Facilities and care teams" not in fragment and "<html" not in fragment


def test_the_form_works_without_and_with_javascript(coordinator):
    html = page_text(coordinator, "/triage/patients")
    form = re.search(r'<form method="get" action="/triage/patients"[^>]*>', html).group(0)
    assert 'role="search"' in form and 'data-hx-target="#patient-list"' in form
    assert 'data-hx-push-url="true"' in form  # the URL says what was searched
    assert '<label class="field__label" for="q">Name or username</label>' in html
    assert '<button type="submit" class="button">Search</button>' in html


# --- what a page costs -------------------------------------------------------------------------

def test_the_statements_do_not_grow_with_the_patients(app, coordinator, add_patients):
    add_patients(10)
    paths = ["/triage/patients", "/triage/patients?q=paged", "/triage/patients?q=nobody"]
    few = [count_statements(app, coordinator, path) for path in paths]
    second = link(NEXT, page_text(coordinator, "/triage/patients"))
    assert second is None  # 12 patients: one page
    add_patients(190)
    many = [count_statements(app, coordinator, path) for path in paths]
    assert many == few
    second = link(NEXT, page_text(coordinator, "/triage/patients"))
    deep = walk(coordinator, "/triage/patients")
    assert len(deep) == 9  # 202 patients
    last = link(NEXT, page_text(coordinator, second))
    assert count_statements(app, coordinator, second) == few[0]
    assert count_statements(app, coordinator, last) == few[0]
