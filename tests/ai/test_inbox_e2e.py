"""The alert inbox in a real browser: a ward nurse sees the open-alert count in the menu, acknowledges one alert,
assigns another to the ward's doctor and resolves it with a note; the badge counts down as she goes."""

import pytest
from playwright.sync_api import expect

from ai.models import Alert
from ai.services import news2_evaluate
from tests.ai.support import record_vitals, ward_with_inpatient
from tests.emr.test_access_support import assign, make_patient, make_user, start_inpatient
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]


def test_nurse_acknowledges_assigns_and_resolves_while_the_badge_counts_down(page):
    ward, doctor, nurse, first_patient, first_stay = ward_with_inpatient("W4", family_name="Chen", given_name="Jianguo")
    ward_doctor = make_user("dr.zhang", "doctor")
    ward_doctor.display_name = "Zhang Wei"
    ward_doctor.save()
    assign(ward_doctor, ward, role="doctor")
    second_patient = make_patient("Liu", "Yang")
    second_stay = start_inpatient(second_patient, doctor, ward)
    for patient, stay in ((first_patient, first_stay), (second_patient, second_stay)):
        news2_evaluate(
            set_id=record_vitals(patient, nurse, encounter=stay, spo2=85, respiratory_rate=26, heart_rate=95)
        )
    first = Alert.objects.get(patient=first_patient)
    second = Alert.objects.get(patient=second_patient)

    # given the ward's nurse signed in: the menu shows two open alerts
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(nurse.username)
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    badge = page.locator('[data-nav-badge="ai:alerts"] .nav-badge')
    expect(badge).to_have_attribute("data-count", "2")

    # when she opens Alerts and acknowledges the first patient's alert
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Alerts").click()
    first_card = page.locator(f'[data-alert="{first.external_id}"]')
    expect(first_card.locator('[data-testid="recipients"]')).to_contain_text("the ward's registered nurses")
    first_card.get_by_role("button", name="Acknowledge").click()

    # then the badge counts one open alert
    expect(page.locator(".messages")).to_contain_text("Alert acknowledged.")
    expect(badge).to_have_attribute("data-count", "1")

    # when she assigns the second alert to the ward's doctor
    second_card = page.locator(f'[data-alert="{second.external_id}"]')
    second_card.get_by_label("Assign to").select_option(label="Zhang Wei")
    second_card.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Alert assigned to Zhang Wei.")
    expect(second_card.get_by_test_id("assignee")).to_contain_text("Zhang Wei")

    # and resolves it with a note
    second_card.locator("summary", has_text="Resolve").click()
    second_card.locator("textarea[name=note]").fill("Reviewed by Dr Zhang; oxygen started, NEWS2 now 3.")
    second_card.get_by_role("button", name="Resolve", exact=True).click()

    # then it leaves the inbox, no alert is open any more, and the resolved view shows who and why
    expect(page.locator(".messages")).to_contain_text("Alert resolved.")
    expect(page.locator(f'[data-alert="{second.external_id}"]')).to_have_count(0)
    expect(page.locator('[data-nav-badge="ai:alerts"]')).to_be_empty()
    page.get_by_label("Status").select_option("resolved")
    page.get_by_role("button", name="Filter").click()
    resolved = page.locator(f'[data-alert="{second.external_id}"]')
    expect(resolved.get_by_test_id("resolution")).to_contain_text("Reviewed by Dr Zhang")
    resolved.locator("summary", has_text="History").click()
    expect(resolved.get_by_test_id("history")).to_contain_text("assigned to dr.zhang")
    second.refresh_from_db()
    assert (second.status, second.assigned_to, second.resolved_by) == ("resolved", ward_doctor, nurse)
