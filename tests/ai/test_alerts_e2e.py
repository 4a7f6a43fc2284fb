"""The alerts page in a real browser: a ward nurse opens Alerts from the menu, reads the NEWS2 parameters of a
deteriorating patient and acknowledges the alert."""

import pytest
from playwright.sync_api import expect

from ai.models import Alert
from ai.services import news2_evaluate
from tests.ai.support import record_vitals, ward_with_inpatient
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]


def test_nurse_acknowledges_a_news2_alert_of_her_ward(page):
    _ward, _doctor, nurse, patient, encounter = ward_with_inpatient("W3", family_name="Chen", given_name="Jianguo")
    news2_evaluate(
        set_id=record_vitals(patient, nurse, encounter=encounter, spo2=85, respiratory_rate=26, heart_rate=95)
    )
    alert = Alert.objects.get()

    # given the ward's nurse signed in
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(nurse.username)
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("user-name")).to_be_visible()

    # when she opens Alerts from the menu
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Alerts").click()
    card = page.locator(f'[data-alert="{alert.external_id}"]')

    # then she sees the alert with the parameters that scored
    expect(page.get_by_role("heading", level=1)).to_have_text("Alerts")
    expect(card).to_contain_text("NEWS2 7: emergency response")
    expect(card.locator('[data-parameter="spo2"]')).to_contain_text("85")
    expect(card.locator('[data-parameter="spo2"] [data-score="3"]')).to_be_visible()

    # and acknowledging it records her name
    card.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".messages")).to_contain_text("Alert acknowledged.")
    expect(page.locator(f'[data-alert="{alert.external_id}"]')).to_contain_text(f"Acknowledged by {nurse}")
    alert.refresh_from_db()
    assert alert.status == "acknowledged"
