"""Appointments in a real browser: a nurse books a doctor's slot for a patient, then the queue page checks the
patient in, calls them and marks them seen, which opens the chart to the doctor.

Screenshots go to var/screenshots/.
"""

import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from emr.models import Encounter
from scheduling.models import Appointment
from tests.factories import TEST_PASSWORD
from tests.scheduling.test_appointments_support import make_slot, make_user, patient_of

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("user-name")).to_be_visible()


def test_nurse_books_a_slot_and_the_queue_walks_the_patient_to_seen(page):
    doctor = make_user("dr.zhou", "doctor")
    doctor.display_name = "Zhou Min"
    doctor.save()
    nurse = make_user("nurse.he", "nurse")
    patient_of(nurse, "Chen", "Jianguo")
    # a slot running now, so it is both bookable (walk-in) and on today's queue
    slot = make_slot(doctor, starts_in_minutes=0, minutes=30, location="Room 4")

    # given the nurse on the appointments page, with the doctor's free slots of today
    _sign_in(page, "nurse.he")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Appointments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Appointments")
    page.get_by_label("Clinician", exact=True).first.select_option(label="Zhou Min")
    page.get_by_role("button", name="Show slots").click()
    expect(page.get_by_test_id("free-slots").locator(f'[data-slot="{slot.external_id}"]')).to_be_visible()

    # when they find the patient, choose them and book the slot
    page.get_by_label("Search patients").fill("Chen")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_test_id("patient-results").get_by_role("link", name="Jianguo Chen").click()
    expect(page.get_by_test_id("chosen-patient")).to_contain_text("Jianguo Chen")
    start = timezone.localtime(slot.period.lower).strftime("%H:%M")
    page.get_by_role("button", name=f"Book {start}").click()

    # then the booking is confirmed and the patient's list shows it
    expect(page.locator(".messages")).to_contain_text("Booked Jianguo Chen with Zhou Min")
    expect(page.get_by_test_id("patient-appointments")).to_contain_text("Booked")
    expect(page.get_by_test_id("no-slots")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "appointments-book-en-laptop.png"), full_page=True)

    # when the nurse opens the doctor's queue and checks the patient in
    page.get_by_role("link", name="Outpatient queue").first.click()
    page.get_by_label("Clinician").select_option(label="Zhou Min")
    page.get_by_role("button", name="Show", exact=True).click()
    board = page.get_by_test_id("queue-board")
    expect(board.locator('[data-column="booked"]')).to_contain_text("Jianguo Chen")
    board.get_by_role("button", name="Check in: Jianguo Chen").click()

    # then the patient waits in the checked-in column; calling and marking seen move them on
    expect(board.locator('[data-column="checked_in"]')).to_contain_text("Jianguo Chen")
    board.get_by_role("button", name="Call in: Jianguo Chen").click()
    expect(board.locator('[data-column="called"]')).to_contain_text("Jianguo Chen")
    board.get_by_role("button", name="Mark seen: Jianguo Chen").click()
    expect(board.locator('[data-column="seen"]')).to_contain_text("Jianguo Chen")
    expect(page.locator(".messages")).to_contain_text(re.compile("Jianguo Chen is marked as seen"))
    page.screenshot(path=str(SCREENSHOTS / "appointments-queue-en-laptop.png"), full_page=True)

    appointment = Appointment.objects.get(slot=slot)
    assert appointment.status == "seen"
    assert Encounter.objects.get(appointment=appointment).attending == doctor
