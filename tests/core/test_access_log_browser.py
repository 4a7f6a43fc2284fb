"""The auditor's access-log page in a real browser: filter, then verify the chain."""

import uuid

import pytest

from hospital.core.models import AccessLog
from hospital.core.request_context import RequestContext
from hospital.core.services.access_log import access_log_record
from tests.factories import UserFactory

pytestmark = pytest.mark.e2e


def _sign_in(page, username, password):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_auditor_filters_the_log_by_patient_and_verifies_the_chain(transactional_db, page, password):
    # given an auditor and entries about two patients
    UserFactory(username="auditor1", roles=["auditor"])
    doctor = UserFactory(username="doctor1", roles=["doctor"])
    patient, other = uuid.uuid4(), uuid.uuid4()
    context = RequestContext(ip_address="10.0.0.9", channel="web")
    for who, purpose in ((patient, "ward round"), (other, "discharge letter")):
        access_log_record(
            actor=doctor,
            action=AccessLog.Action.READ,
            object_type="emr.patient",
            object_id=str(who),
            patient_external_id=who,
            purpose=purpose,
            context=context,
        )
    _sign_in(page, "auditor1", password)

    # when the auditor opens the log and filters by one patient
    page.goto("/audit/access-log/")
    rows = page.locator("[data-testid=access-log-table] tbody tr")
    assert rows.count() == 2
    page.fill("input[name=patient]", str(patient))
    page.click("[data-testid=access-log-filters] button[type=submit]")

    # then only that patient's entry shows, and verifying keeps the filter and reports an intact chain
    assert rows.count() == 1
    assert "ward round" in rows.first.inner_text()
    page.click("[data-testid=verify-form] button")
    assert "Chain intact" in page.locator("[data-testid=verify-result]").inner_text()
    assert rows.count() == 1
    assert f"patient={patient}" in page.url
