"""A patient's whole visit in Spanish, in a real Chromium with JavaScript on and off (without
it, on a 320 px phone): veteran1 chooses Español at the foot of the sign-in page, signs in,
writes to his care team and sends; the thread says by when the team should reply, as a
Spanish date with its weekday; nurse1 (whose pages stay English) answers, and veteran1 reads
the answer. axe-core finds nothing on the Spanish pages (lang="es")."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from smweb.extensions import db
from smweb.services.demo import DEMO_PASSWORD
from tests.browser.support import (
    CARE_TEAM,
    JS_MODES,
    LIVE,
    PHONE,
    assert_fits,
    heading,
    notice,
    row_of,
    sign_in,
    wait_for_htmx,
)
from tests.support import user

pytestmark = pytest.mark.browser

WEEKDAYS = "lunes|martes|miércoles|jueves|viernes"
MONTHS = ("enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|"
          "diciembre")
SPANISH_DATE = re.compile(rf"({WEEKDAYS}), \d{{1,2}} de ({MONTHS}) de 20\d\d, \d{{1,2}}:\d\d "
                          r"[ap]\.m\. E[SD]T")


def menu_link(page, name: str):
    """A link of the main navigation, whose name is Spanish too ("Principal")."""
    return page.get_by_role("navigation", name="Principal").get_by_role("link", name=name,
                                                                         exact=True)


@pytest.fixture
def veteran1_back_in_english():
    """The live site is shared by the browser tests: veteran1 reads English again after."""
    yield
    with LIVE["app"].app_context():
        user("veteran1").language = None
        db.session.commit()


@pytest.mark.parametrize("js", JS_MODES)
def test_a_visit_in_spanish(open_tab, a11y, js, veteran1_back_in_english):
    check = a11y.check if js else (lambda tab, _name: assert_fits(tab.page))
    patient = open_tab(js=js, size=None if js else PHONE)
    page = patient.page
    page.goto("/sign-in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(heading(page)).to_have_text("Iniciar sesión en Mensajes Seguros")
    check(patient, "iniciar sesión")
    page.get_by_label("Nombre de usuario").fill("veteran1")
    page.get_by_label("Contraseña").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Iniciar sesión", exact=True).click()
    expect(heading(page)).to_have_text("Bandeja de entrada")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.wait_for_load_state()
    check(patient, "bandeja de entrada")

    subject = f"Receta {'js' if js else 'nojs'} {uuid.uuid4().hex[:6]}"
    body = f"Necesito renovar mi metformina. ({subject})"
    menu_link(page, "Redactar").click()
    wait_for_htmx(patient)
    expect(heading(page)).to_have_text("Comenzar un mensaje nuevo")
    page.get_by_label("Para (equipo de atención)").select_option(label=CARE_TEAM)
    page.get_by_label("Categoría").select_option(label="Medicamentos")
    page.get_by_label("Asunto", exact=True).fill(subject)
    page.get_by_label("Mensaje", exact=True).fill(body)
    check(patient, "redactar")
    page.get_by_role("button", name="Enviar", exact=True).click()
    expect(notice(page, "Su mensaje se envió.")).to_be_visible()
    expect(heading(page)).to_have_text(subject)
    due = page.locator(".alert, p").filter(has_text="debería responder a más tardar el").first
    expect(due).to_have_text(SPANISH_DATE)
    expect(page.get_by_text("El equipo aún no lo ha leído")).to_be_visible()
    check(patient, "mensaje enviado")

    thread_path = "/threads/" + page.url.rsplit("/threads/", 1)[1]
    nurse = open_tab(js=js)
    sign_in(nurse, "nurse1", "Your care teams' messages")
    nurse.page.goto(thread_path)  # (the queue, oldest first, is long by now)
    expect(heading(nurse.page)).to_have_text(subject)
    expect(nurse.page.locator("html")).to_have_attribute("lang", "en")
    wait_for_htmx(nurse)
    reply = f"Su receta está en camino. ({subject})"
    nurse.page.get_by_label("Your reply").fill(reply)
    nurse.page.get_by_role("button", name="Send reply").click()
    expect(notice(nurse.page, "Your reply was sent.")).to_be_visible()

    menu_link(page, "Bandeja de entrada").click()
    expect(heading(page)).to_have_text("Bandeja de entrada")
    answered = row_of(page, subject)
    expect(answered.locator(".badge")).to_have_text("No leído")
    answered.get_by_role("link").click()
    expect(heading(page)).to_have_text(subject)
    expect(page.get_by_text(reply)).to_be_visible()
    check(patient, "respuesta leída")
    for tab in (patient, nurse):
        tab.assert_clean()
    a11y.assert_clean()
