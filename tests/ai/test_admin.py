"""The alerts in the admin: listed and shown, never added, changed or deleted there."""

import pytest

from ai.models import Alert
from ai.services import news2_evaluate
from tests.ai.support import record_vitals, ward_with_inpatient
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_alerts_and_scores_are_view_only_in_the_admin(client, settings):
    settings.OTP_REQUIRED_FOR_ADMINS = False  # the second factor is tested in tests/core
    _ward, _doctor, nurse, patient, encounter = ward_with_inpatient()
    news2_evaluate(set_id=record_vitals(patient, nurse, encounter=encounter, spo2=85, respiratory_rate=26))
    alert = Alert.objects.get()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    for url in (
        "/admin/ai/alert/",
        f"/admin/ai/alert/{alert.pk}/change/",
        "/admin/ai/news2score/",
        "/admin/ai/spo2scale2order/",
    ):
        assert client.get(url).status_code == 200, url
    assert 'name="_save"' not in client.get(f"/admin/ai/alert/{alert.pk}/change/").content.decode()
    assert client.get("/admin/ai/alert/add/").status_code == 403
    assert client.post(f"/admin/ai/alert/{alert.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Alert.objects.filter(pk=alert.pk).exists()
