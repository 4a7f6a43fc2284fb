"""The alert inbox's REST API: list with filters, one alert with its history, acknowledge, assign, resolve, the
count; clear 4xx errors; the OpenAPI description."""

import uuid
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from ai.models import Alert
from ai.services import news2_evaluate
from hospital.core.models import AccessLog
from tests.ai.support import record_vitals, ward_with_inpatient
from tests.emr.test_access_support import assign, make_user, make_ward

pytestmark = pytest.mark.django_db

BASE = "/api/v1/alerts/"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def ward1(db):
    ward, doctor, nurse, patient, encounter = ward_with_inpatient("W1")
    news2_evaluate(
        set_id=record_vitals(patient, nurse, encounter=encounter, spo2=85, respiratory_rate=26, heart_rate=95)
    )
    return SimpleNamespace(
        ward=ward, doctor=doctor, nurse=nurse, patient=patient, encounter=encounter, alert=Alert.objects.get()
    )


def _url(alert, action=""):
    return f"{BASE}{alert.external_id}/{action + '/' if action else ''}"


def test_the_list_shows_the_inbox_with_title_escalation_and_history(ward1):
    response = _client(ward1.nurse).get(BASE)

    assert response.status_code == 200
    [item] = response.json()
    assert item["external_id"] == str(ward1.alert.external_id)
    assert (item["kind"], item["severity"], item["status"], item["occurrences"]) == ("news2", "critical", "open", 1)
    assert item["title"] == "NEWS2 7: emergency response"
    assert [r["role"] for r in item["recipients"]] == ["ward_nurses", "ward_doctors", "critical_care_team"]
    assert item["patient"]["mrn"] == ward1.patient.mrn and item["ward"]["code"] == "W1"
    assert [e["action"] for e in item["events"]] == ["raised"]
    entry = AccessLog.objects.get(object_type="ai.alert", action="read")
    assert (entry.actor, entry.detail["count"]) == (ward1.nurse, 1)


def test_filters_and_their_errors(ward1):
    client = _client(ward1.nurse)

    assert len(client.get(BASE, {"kind": "news2", "ward": "W1"}).json()) == 1
    assert client.get(BASE, {"kind": "census"}).json() == []
    assert client.get(BASE, {"status": "resolved"}).json() == []
    bad = client.get(BASE, {"status": "closed", "kind": "nope", "ward": "ZZ"})
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"status", "kind", "ward"}


def test_acknowledge_assign_resolve_through_the_api(ward1):
    client = _client(ward1.nurse)

    acknowledged = client.post(_url(ward1.alert, "acknowledge"))
    assigned = client.post(
        _url(ward1.alert, "assign"), {"assignee": str(ward1.doctor.external_id), "note": "Please review"}, format="json"
    )
    resolved = client.post(_url(ward1.alert, "resolve"), {"note": "Reviewed, oxygen started."}, format="json")

    assert acknowledged.status_code == assigned.status_code == resolved.status_code == 200
    assert acknowledged.json()["acknowledged_by"]["username"] == ward1.nurse.username
    assert assigned.json()["assigned_to"]["username"] == ward1.doctor.username
    body = resolved.json()
    assert (body["status"], body["resolved_by"]["username"], body["resolution_note"]) == (
        "resolved",
        ward1.nurse.username,
        "Reviewed, oxygen started.",
    )
    assert [(e["action"], e["actor"] and e["actor"]["username"]) for e in body["events"]] == [
        ("raised", None),
        ("acknowledged", ward1.nurse.username),
        ("assigned", ward1.nurse.username),
        ("resolved", ward1.nurse.username),
    ]


def test_bad_input_gets_field_errors_and_writes_nothing(ward1):
    client = _client(ward1.nurse)
    outsider = make_user("nurse.w2", "nurse")
    assign(outsider, make_ward("W2"))

    no_note = client.post(_url(ward1.alert, "resolve"), {"note": ""}, format="json")
    wrong_assignee = client.post(_url(ward1.alert, "assign"), {"assignee": str(outsider.external_id)}, format="json")
    unknown_assignee = client.post(_url(ward1.alert, "assign"), {"assignee": str(uuid.uuid4())}, format="json")

    assert no_note.status_code == 400 and "note" in no_note.json()["error"]["fields"]
    assert wrong_assignee.status_code == 400 and "assignee" in wrong_assignee.json()["error"]["fields"]
    assert unknown_assignee.status_code == 400 and "assignee" in unknown_assignee.json()["error"]["fields"]
    ward1.alert.refresh_from_db()
    assert (ward1.alert.status, ward1.alert.assigned_to) == ("open", None)
    assert not AccessLog.objects.filter(object_type="ai.alert", action="write").exists()


def test_an_alert_outside_the_inbox_is_a_404_and_other_roles_a_403(ward1):
    outsider = make_user("nurse.w2", "nurse")
    assign(outsider, make_ward("W2"))

    assert _client(outsider).get(_url(ward1.alert)).status_code == 404
    assert _client(outsider).post(_url(ward1.alert, "acknowledge")).status_code == 404
    assert _client(make_user("ph.li", "pharmacist")).get(BASE).status_code == 403
    assert _client(make_user("ph.li", "pharmacist")).post(_url(ward1.alert, "acknowledge")).status_code == 403
    assert APIClient().get(BASE).status_code in (401, 403)
    ward1.alert.refresh_from_db()
    assert ward1.alert.status == "open"


def test_the_count_is_the_badge(ward1):
    client = _client(ward1.nurse)

    assert client.get(f"{BASE}count/").json() == {"open": 1}
    client.post(_url(ward1.alert, "acknowledge"))
    assert client.get(f"{BASE}count/").json() == {"open": 0}
    assert _client(make_user("ph.li", "pharmacist")).get(f"{BASE}count/").json() == {"open": 0}


def test_the_list_query_count_does_not_grow_with_alerts(ward1, django_assert_num_queries):
    from tests.emr.test_access_support import make_patient, start_inpatient

    client = _client(ward1.nurse)
    client.get(BASE)
    # the user's roles, alerts, their histories; the access-log entry (savepoint, lock, previous hash, insert, release)
    with django_assert_num_queries(8) as few:
        client.get(BASE)
    for name in ("赵", "钱", "孙"):
        patient = make_patient(name, "测试")
        encounter = start_inpatient(patient, ward1.doctor, ward1.ward)
        news2_evaluate(set_id=record_vitals(patient, ward1.nurse, encounter=encounter, consciousness="V"))

    with django_assert_num_queries(len(few.captured_queries)):
        assert len(client.get(BASE).json()) == 4


def test_the_openapi_document_describes_the_alerts_without_warnings():
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=[path("api/v1/alerts/", include("ai.api_urls"))]).get_schema(
        request=None, public=True
    )

    validate_schema(schema)
    assert not GENERATOR_STATS, (dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache))
    assert set(schema["paths"]) == {
        "/api/v1/alerts/",
        "/api/v1/alerts/count/",
        "/api/v1/alerts/{external_id}/",
        "/api/v1/alerts/{external_id}/acknowledge/",
        "/api/v1/alerts/{external_id}/assign/",
        "/api/v1/alerts/{external_id}/resolve/",
    }
    listing = schema["paths"]["/api/v1/alerts/"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"status", "kind", "ward", "mine"}
    assert {"200", "400", "403", "404"} <= set(
        schema["paths"]["/api/v1/alerts/{external_id}/resolve/"]["post"]["responses"]
    )
