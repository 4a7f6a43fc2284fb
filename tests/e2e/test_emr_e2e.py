"""The EMR in a real browser: registration with a duplicate warning, vitals, a signed and amended note with an
ICD-10 diagnosis, a nurse of another ward breaking the glass, and the access log showing both.

Screenshots go to var/screenshots/ (laptop 1280 and tablet 820 wide, English and Chinese).
"""

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from emr.models import Patient
from tests.emr.test_access_support import assign, make_ward
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db", "icd10_codes")]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("user-name")).to_be_visible()


def _sign_out(page) -> None:
    page.get_by_role("button", name=re.compile("Sign out|退出登录")).click()
    expect(page).to_have_url("/accounts/login/")


def test_doctor_registers_charts_signs_and_amends_nurse_breaks_the_glass_auditor_sees_both(page):
    UserFactory(username="dr.zhou", display_name="Zhou Min", roles=["doctor"])
    nurse = UserFactory(username="nurse.he", display_name="He Lan", roles=["nurse"])
    assign(nurse, make_ward("W7"))
    UserFactory(username="auditor.qian", display_name="Qian Yu", roles=["auditor"])
    Patient.objects.create(family_name="Chen", given_name="Jianguo", sex="male", birth_date=date(1958, 4, 12))

    # given the doctor on the patient search page
    _sign_in(page, "dr.zhou")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Patients").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
    _shot(page, "emr-search-en-laptop")

    # when they register a patient whose name and birth date match a registered one
    page.get_by_role("link", name="Register a patient").click()
    page.get_by_label("Family name").fill("Chen")
    page.get_by_label("Given name").fill("Jianguo")
    page.get_by_label("Sex").select_option("male")
    page.get_by_label("Birth date").fill("1958-04-12")
    page.get_by_label("Phone").fill("13800138000")
    page.get_by_label("Allergy status").select_option("no_known_allergies")
    page.get_by_role("button", name="Register", exact=True).click()

    # then the likely duplicate is shown with its reason before anything is saved
    warning = page.get_by_test_id("duplicate-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("similar name and same birth date")
    assert Patient.objects.count() == 1
    _shot(page, "emr-register-duplicate-en-laptop")

    # when they confirm it is another person, the patient is registered and the chart opens
    page.get_by_test_id("register-anyway").click()
    expect(page.get_by_test_id("patient-banner")).to_contain_text("Jianguo Chen")
    expect(page.get_by_test_id("patient-banner").get_by_test_id("allergy-status")).to_have_text("No known allergies")
    chart_url = page.url

    # when they record vitals
    page.get_by_role("link", name="Record vitals").click()
    page.get_by_label("Heart rate (/min)").fill("96")
    page.get_by_label("Systolic BP (mmHg)").fill("142")
    page.get_by_label("Diastolic BP (mmHg)").fill("88")
    page.get_by_label("Respiratory rate (/min)").fill("20")
    page.get_by_label("SpO2 (%)").fill("95")
    page.get_by_label("Temperature (°C)").fill("38.2")
    page.get_by_role("button", name="Save vitals").click()
    expect(page.get_by_test_id("latest-vitals")).to_contain_text("142/88")
    expect(page.get_by_test_id("vitals-graph")).to_be_visible()

    # and write a note with an ICD-10 diagnosis picked in the picker
    page.get_by_role("link", name="New note").click()
    page.get_by_label("Chief complaint").fill("Fever and productive cough for three days")
    page.get_by_label("Examination").fill("Crackles at the right base")
    page.get_by_label("Assessment").fill("Community-acquired pneumonia")
    page.get_by_label("Find an ICD-10 code").fill("pneumonia")
    page.locator("[data-icd10-choice][data-code='J18.9']").click()
    expect(page.locator(".chip[data-code='J18.9']")).to_be_visible()
    _shot(page, "emr-note-editor-en-laptop")
    page.get_by_role("button", name="Save and sign…").click()

    # then signing asks for confirmation, and the signed note is read-only
    expect(page.get_by_test_id("sign-confirm")).to_be_visible()
    page.get_by_role("button", name="Sign now").click()
    expect(page.get_by_test_id("note-detail")).to_contain_text("Signed")
    expect(page.get_by_test_id("note-diagnoses")).to_contain_text("J18.9")

    # when they amend it with a reason, version 2 opens in the editor and is signed in its turn
    page.get_by_label("Reason for the amendment").fill("Examination side corrected")
    page.get_by_role("button", name="Amend").click()
    page.get_by_label("Examination").fill("Crackles at the left base")
    page.get_by_role("button", name="Save and sign…").click()
    page.get_by_role("button", name="Sign now").click()
    expect(page.get_by_test_id("note-versions").locator("li")).to_have_count(2)
    expect(page.get_by_test_id("note-detail")).to_contain_text("Crackles at the left base")

    # and the chart shows vitals, the problem-coded note timeline and the amended version
    page.goto(chart_url)
    expect(page.get_by_test_id("notes-timeline")).to_contain_text("v2")
    _shot(page, "emr-chart-en-laptop")
    page.set_viewport_size({"width": 820, "height": 1180})
    _shot(page, "emr-chart-en-tablet")
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    _shot(page, "emr-chart-zh-tablet")
    page.set_viewport_size({"width": 1280, "height": 800})
    _shot(page, "emr-chart-zh-laptop")
    page.get_by_role("button", name="English").click()
    _sign_out(page)

    # given a nurse of another ward
    _sign_in(page, "nurse.he")
    page.goto(chart_url)

    # then the chart is closed to her, with the reason and the break-the-glass form
    expect(page.get_by_test_id("access-denied")).to_be_visible()
    expect(page.get_by_test_id("patient-banner")).to_have_count(0)
    _shot(page, "emr-break-glass-en-laptop")

    # when she breaks the glass with a reason, the chart opens with the emergency banner
    page.get_by_label("Reason for emergency access").fill("Patient collapsed in the corridor outside W7")
    page.get_by_role("button", name="Break the glass and open the record").click()
    expect(page.get_by_test_id("emergency-banner")).to_contain_text("Emergency access until")
    expect(page.get_by_test_id("patient-banner")).to_contain_text("Jianguo Chen")
    _shot(page, "emr-chart-break-glass-en-laptop")
    _sign_out(page)

    # then the auditor's access log shows the doctor's and the nurse's accesses to this patient
    _sign_in(page, "auditor.qian")
    patient = Patient.objects.get(phone_index__isnull=False)
    page.goto(f"/audit/access-log/?patient={patient.external_id}")
    table = page.get_by_test_id("access-log-table")
    expect(table).to_contain_text("dr.zhou")
    expect(table).to_contain_text("nurse.he")
    expect(table.locator("tr", has_text="nurse.he").filter(has_text="Break the glass")).to_have_count(1)
    _shot(page, "emr-access-log-en-laptop")
