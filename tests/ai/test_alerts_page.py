"""The alerts page: scope by ward and care team, order, NEWS2 parameters, htmx refresh, acknowledgement."""

from decimal import Decimal

import pytest
from django.urls import reverse

from ai.models import Alert
from ai.services import news2_evaluate
from hospital.core.models import AccessLog
from tests.ai.support import record_vitals, ward_with_inpatient
from tests.emr.test_access_support import make_patient, make_user, start_inpatient

pytestmark = pytest.mark.django_db

URL = "/alerts/"


@pytest.fixture
def wards(db):
    """Two wards, each with a nurse and an inpatient; ward 1's patient scores 7, ward 2's has a 3 in one."""
    w1, doctor1, nurse1, patient1, encounter1 = ward_with_inpatient("W1", family_name="王", given_name="芳")
    w2, doctor2, nurse2, patient2, encounter2 = ward_with_inpatient("W2", family_name="李", given_name="明")
    critical = news2_evaluate(
        set_id=record_vitals(patient1, nurse1, encounter=encounter1, spo2=85, respiratory_rate=26, heart_rate=95)
    )
    medium = news2_evaluate(set_id=record_vitals(patient2, nurse2, encounter=encounter2, consciousness="C"))
    return {
        "nurse1": nurse1,
        "nurse2": nurse2,
        "doctor2": doctor2,
        "patient1": patient1,
        "encounter1": encounter1,
        "critical": Alert.objects.get(source_id=critical.external_id),
        "medium": Alert.objects.get(source_id=medium.external_id),
    }


def test_url_and_navigation_name():
    assert reverse("ai:alerts") == URL


def test_a_ward_nurse_sees_her_wards_alert_with_its_news2_parameters(client, wards):
    client.force_login(wards["nurse1"])

    response = client.get(URL)
    html = response.content.decode()

    assert response.status_code == 200
    assert f'data-alert="{wards["critical"].external_id}"' in html
    assert f'data-alert="{wards["medium"].external_id}"' not in html
    assert "NEWS2 7: emergency response" in html and "Emergency response" in html
    respiratory = html.split('data-parameter="respiratory_rate"')[1].split("</tr>")[0]
    assert "Respiratory rate" in respiratory and "26" in respiratory and 'data-score="3"' in respiratory
    assert "Air" in html.split('data-parameter="supplemental_oxygen"')[1].split("</tr>")[0]
    # refreshed by htmx every 30 seconds
    assert f'hx-get="{URL}"' in html and 'hx-trigger="every 30s"' in html
    entry = AccessLog.objects.filter(object_type="ai.alert", action="read").get()
    assert (entry.actor, entry.detail["alerts"], entry.detail["open"]) == (wards["nurse1"], 1, 1)


def test_the_attending_doctor_sees_the_alerts_of_his_patient(client, wards):
    client.force_login(wards["doctor2"])

    html = client.get(URL).content.decode()

    assert f'data-alert="{wards["medium"].external_id}"' in html
    assert f'data-alert="{wards["critical"].external_id}"' not in html
    assert "urgent ward-based response" in html


def _inpatient_on(ward, doctor, family_name):
    patient = make_patient(family_name, "测试")
    return patient, start_inpatient(patient, doctor, ward)


def test_open_alerts_come_first_most_severe_then_newest(client, wards):
    nurse = wards["nurse1"]
    ward, doctor = wards["encounter1"].ward, wards["encounter1"].attending
    (p1, e1), (p2, e2), (p3, e3) = (_inpatient_on(ward, doctor, name) for name in ("赵", "钱", "孙"))
    older_high = news2_evaluate(
        set_id=record_vitals(p1, nurse, encounter=e1, respiratory_rate=25, temperature=Decimal("39.1"))
    )
    newer_high = news2_evaluate(
        set_id=record_vitals(p2, nurse, encounter=e2, respiratory_rate=25, temperature=Decimal("39.2"))
    )
    acknowledged = news2_evaluate(set_id=record_vitals(p3, nurse, encounter=e3, consciousness="P"))
    client.force_login(nurse)
    client.post(
        reverse("ai:alert_acknowledge", args=[Alert.objects.get(source_id=acknowledged.external_id).external_id])
    )

    html = client.get(URL).content.decode()
    shown = [part.split('"')[0] for part in html.split('data-alert="')[1:]]

    expected = [
        wards["critical"],
        Alert.objects.get(source_id=newer_high.external_id),
        Alert.objects.get(source_id=older_high.external_id),
        Alert.objects.get(source_id=acknowledged.external_id),
    ]
    assert shown == [str(alert.external_id) for alert in expected]
    assert "3 open alerts" in html


def test_htmx_refresh_renders_the_list_alone(client, wards):
    client.force_login(wards["nurse1"])

    html = client.get(URL, HTTP_HX_REQUEST="true").content.decode()

    assert "<html" not in html
    assert f'data-alert="{wards["critical"].external_id}"' in html


def test_acknowledge_marks_the_alert_and_names_who(client, wards):
    client.force_login(wards["nurse1"])
    alert = wards["critical"]

    response = client.post(reverse("ai:alert_acknowledge", args=[alert.external_id]))
    html = client.get(URL).content.decode()

    assert response.status_code == 302 and response["Location"] == URL
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", wards["nurse1"])
    card = html.split(f'data-alert="{alert.external_id}"')[1].split("</article>")[0]
    assert f"Acknowledged by {wards['nurse1']}" in card and "Acknowledge</button>" not in card
    assert "Alert acknowledged." in html


def test_an_alert_of_another_ward_cannot_be_acknowledged(client, wards):
    client.force_login(wards["nurse1"])
    alert = wards["medium"]

    response = client.post(reverse("ai:alert_acknowledge", args=[alert.external_id]))

    assert response.status_code == 404
    alert.refresh_from_db()
    assert alert.status == "open" and alert.acknowledged_by is None


def test_acknowledge_is_post_only(client, wards):
    client.force_login(wards["nurse1"])

    assert client.get(reverse("ai:alert_acknowledge", args=[wards["critical"].external_id])).status_code == 405
    wards["critical"].refresh_from_db()
    assert wards["critical"].status == "open"


def test_other_roles_are_refused(client, wards):
    client.force_login(make_user("ph.zhou", "pharmacist"))

    assert client.get(URL).status_code == 403
    assert client.post(reverse("ai:alert_acknowledge", args=[wards["critical"].external_id])).status_code == 403
    assert not AccessLog.objects.filter(object_type="ai.alert").exists()


def test_sign_in_required(client):
    response = client.get(URL)

    assert response.status_code == 302 and response["Location"].startswith(reverse("core:login"))


def test_an_incomplete_set_is_listed_with_what_is_missing(client, wards):
    nurse, patient, encounter = wards["nurse1"], wards["patient1"], wards["encounter1"]
    score = news2_evaluate(
        set_id=record_vitals(patient, nurse, encounter=encounter, temperature=None, consciousness=None)
    )
    client.force_login(nurse)

    html = client.get(URL).content.decode()

    row = html.split(f'data-set="{score.set_id}"')[1].split("</tr>")[0]
    assert "Temperature" in row and "Consciousness (AVPU)" in row
    assert "Respiratory rate 16 (0)" in row
    assert Alert.objects.count() == 2  # the incomplete set raised none


def test_query_count_does_not_grow_with_alerts(client, wards, django_assert_num_queries):
    nurse, encounter = wards["nurse1"], wards["encounter1"]
    client.force_login(nurse)
    client.get(URL)  # the session and the role cache are warm from here on

    # session, user, roles, alerts, their histories, the wards' clinicians, the filter's wards, incomplete
    # sets; the access-log entry (savepoint, chain lock, previous hash, id, insert, release); the session
    # save (savepoint, update, release)
    with django_assert_num_queries(17) as few:
        client.get(URL)
    for name in ("赵", "钱", "孙", "李"):
        patient, stay = _inpatient_on(encounter.ward, encounter.attending, name)
        news2_evaluate(set_id=record_vitals(patient, nurse, encounter=stay, consciousness="V"))
        news2_evaluate(set_id=record_vitals(patient, nurse, encounter=stay, temperature=None))
    with django_assert_num_queries(len(few.captured_queries)):
        html = client.get(URL).content.decode()

    assert "5 open alerts" in html
