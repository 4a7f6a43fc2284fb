"""Vital signs and laboratory results over the API: 400 with field errors and nothing written, scoping, logging."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from emr.models import Observation
from emr.services.notes import note_create_draft
from emr.services.observations import vital_signs_record
from hospital.core.models import AccessLog
from tests.emr.test_notes_support import add_to_care_team, make_encounter, make_patient, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def encounter(doctor):
    return make_encounter(make_patient(), doctor)


def _vitals_url(patient):
    return f"/api/v1/emr/patients/{patient.external_id}/vitals/"


def _labs_url(patient):
    return f"/api/v1/emr/patients/{patient.external_id}/labs/"


def test_record_vitals_with_a_draft_note(doctor_api, encounter, doctor):
    draft = note_create_draft(encounter=encounter, author=doctor, note_type="progress", chief_complaint="x")

    response = doctor_api.post(
        _vitals_url(encounter.patient),
        {"note": str(draft.external_id), "heart_rate": 92, "spo2": "96", "consciousness": "A"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert sorted(row["code"] for row in body) == ["consciousness", "heart_rate", "spo2"]
    assert {row["note"] for row in body} == {str(draft.external_id)}
    assert {row["encounter"] for row in body} == {str(encounter.external_id)}
    assert len({row["set_id"] for row in body}) == 1


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"spo2": 150}, "spo2", "SpO2 must be between 40 and 100 %."),
        ({"systolic_bp": 70, "diastolic_bp": 110}, "systolic_bp", None),
        ({"temperature": 101.2}, "temperature", None),
        ({}, "non_field_errors", None),
        ({"heart_rate": "abc"}, "heart_rate", None),
        ({"heart_rate": 80, "encounter": "8a4e3a4c-93b5-4a43-9d5e-2a6f3b0e9c11"}, "encounter", None),
    ],
)
def test_bad_vitals_are_a_400_with_field_errors_and_write_nothing(doctor_api, encounter, payload, field, message):
    response = doctor_api.post(_vitals_url(encounter.patient), payload, format="json")

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    if message:
        assert error["fields"][field] == [message]
    assert not Observation.objects.exists()
    assert not AccessLog.objects.exists()


def test_a_nurse_on_the_care_team_records_vitals_a_stranger_cannot(encounter):
    nurse = make_user("nurse", "nurse")
    add_to_care_team(encounter, nurse, role="nurse")
    stranger = make_user("stranger", "nurse")
    client = APIClient()

    client.force_authenticate(nurse)
    assert client.post(_vitals_url(encounter.patient), {"heart_rate": 80}, format="json").status_code == 201
    client.force_authenticate(stranger)
    assert client.post(_vitals_url(encounter.patient), {"heart_rate": 80}, format="json").status_code == 403
    assert client.get(_vitals_url(encounter.patient)).status_code == 403
    assert Observation.objects.count() == 1


def test_vitals_list_is_logged_once_with_a_fixed_number_of_queries(doctor_api, encounter, doctor):
    start = timezone.now() - timedelta(days=1)
    vital_signs_record(patient=encounter.patient, encounter=encounter, recorded_by=doctor, taken_at=start, spo2=95)
    doctor_api.get(_vitals_url(encounter.patient))  # warm the permission cache of the user

    def run():
        with CaptureQueriesContext(connection) as queries:
            response = doctor_api.get(_vitals_url(encounter.patient))
        assert response.status_code == 200
        return response.json(), len(queries)

    body, few = run()
    for hour in range(1, 6):
        vital_signs_record(
            patient=encounter.patient,
            encounter=encounter,
            recorded_by=doctor,
            taken_at=start + timedelta(hours=hour),
            heart_rate=70 + hour,
            spo2=96,
        )
    more, many = run()

    assert len(body) == 1 and len(more) == 11
    assert (more[0]["code"], more[0]["value_numeric"]) in {("heart_rate", "75.0000"), ("spo2", "96.0000")}
    # access check 1, observations 1, access-log entry 4 (+ 2 savepoints inside the test's transaction)
    assert few == many == 8
    entry = AccessLog.objects.filter(action="read").last()
    assert entry.detail == {"category": "vital_sign", "count": 11}


def test_since_filters_the_vitals_list(doctor_api, encounter, doctor):
    now = timezone.now()
    vital_signs_record(patient=encounter.patient, recorded_by=doctor, taken_at=now - timedelta(days=3), spo2=91)
    vital_signs_record(patient=encounter.patient, recorded_by=doctor, taken_at=now - timedelta(hours=1), spo2=99)

    body = doctor_api.get(_vitals_url(encounter.patient), {"since": (now - timedelta(days=1)).isoformat()}).json()

    assert [row["value_numeric"] for row in body] == ["99.0000"]
    assert doctor_api.get(_vitals_url(encounter.patient), {"since": "yesterday"}).status_code == 400


def test_record_and_list_lab_results_with_flags(doctor_api, encounter):
    taken = (timezone.now() - timedelta(hours=1)).isoformat()
    payloads = [
        {"code": "2823-3", "display": "Potassium", "value_numeric": "2.4", "unit": "mmol/L", "reference_low": "3.5",
         "reference_high": "5.3", "effective_at": taken},
        {"code": "2951-2", "display": "Sodium", "value_numeric": "139", "unit": "mmol/L", "reference_low": "135",
         "reference_high": "145", "effective_at": taken, "encounter": str(encounter.external_id)},
    ]  # fmt: skip

    flags = []
    for payload in payloads:
        response = doctor_api.post(_labs_url(encounter.patient), payload, format="json")
        assert response.status_code == 201, response.content
        flags.append(response.json()["flag"])
    listed = doctor_api.get(_labs_url(encounter.patient)).json()

    assert flags == ["LL", "N"]
    assert sorted((row["code"], row["flag"]) for row in listed) == [("2823-3", "LL"), ("2951-2", "N")]


def test_bad_lab_result_is_a_400_and_writes_nothing(doctor_api, encounter):
    response = doctor_api.post(
        _labs_url(encounter.patient),
        {
            "code": "2823-3",
            "unit": "mmol/L",
            "reference_low": "5",
            "reference_high": "3",
            "effective_at": timezone.now().isoformat(),
        },
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"value_numeric", "reference_low"}
    assert not Observation.objects.exists()
