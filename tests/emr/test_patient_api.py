"""POST /api/v1/emr/patients/ and GET /api/v1/emr/patients/<external_id>/."""

import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from emr.models import Patient
from emr.services.encounters import care_team_add, encounter_start
from hospital.core.models import AccessLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CREATE_URL = "/api/v1/emr/patients/"
VALID = {"family_name": "李", "given_name": "秀英", "sex": "female", "birth_date": "1948-02-29"}


def _detail_url(external_id):
    return f"/api/v1/emr/patients/{external_id}/"


def _treat(external_id, attending):
    # Reads are scoped to the patients a clinician treats: an outpatient visit makes `attending` one of them.
    patient = Patient.objects.get(external_id=external_id)
    return encounter_start(patient=patient, encounter_class="outpatient", attending=attending, started_by=attending)


def test_create_returns_201_with_external_id_and_mrn(doctor_api, doctor):
    response = doctor_api.post(CREATE_URL, VALID, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    patient = Patient.objects.get()
    assert body["external_id"] == str(patient.external_id)
    assert re.fullmatch(r"MRN\d{8}", body["mrn"]) and body["mrn"] == patient.mrn
    assert body["allergy_status"] == "unknown"
    assert response["Location"] == reverse("emr-patient-detail", kwargs={"external_id": patient.external_id})
    entry = AccessLog.objects.get()
    assert (entry.action, entry.actor_id, entry.channel) == ("create", doctor.pk, "api")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**VALID, "birth_date": str(timezone.localdate() + timedelta(days=1))}, "birth_date"),
        ({**VALID, "birth_date": "29/02/1948"}, "birth_date"),
        ({**VALID, "birth_date": 19480229}, "birth_date"),
        ({**VALID, "sex": "f"}, "sex"),
        ({**VALID, "family_name": {"han": "李"}}, "family_name"),
        ({**VALID, "given_name": ["秀英"]}, "given_name"),
        ({k: v for k, v in VALID.items() if k != "sex"}, "sex"),
    ],
)
def test_bad_input_is_a_400_with_field_errors_and_writes_nothing(doctor_api, payload, field):
    response = doctor_api.post(CREATE_URL, payload, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert not Patient.objects.exists()
    assert not AccessLog.objects.exists()


def test_malformed_json_is_a_400_and_writes_nothing(doctor_api):
    response = doctor_api.post(CREATE_URL, '{"family_name": "李",', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert not Patient.objects.exists()
    assert not AccessLog.objects.exists()


def test_read_returns_the_patient_and_logs_the_read(doctor_api, doctor):
    external_id = doctor_api.post(CREATE_URL, VALID, format="json").json()["external_id"]
    _treat(external_id, doctor)

    response = doctor_api.get(_detail_url(external_id))

    assert response.status_code == 200
    assert response.json()["full_name"] == "李秀英"
    read = AccessLog.objects.get(action="read")
    assert (read.actor_id, str(read.patient_external_id), read.object_type) == (doctor.pk, external_id, "emr.patient")


def test_read_of_unknown_patient_is_404(doctor_api):
    response = doctor_api.get(_detail_url(uuid.uuid4()))
    assert response.status_code == 404
    assert not AccessLog.objects.exists()


def test_user_without_add_permission_gets_403_and_nothing_is_written(api_client):
    # Finance officers may look patients up but not register them.
    api_client.force_authenticate(UserFactory(username="fin1", roles=["finance_officer"]))

    response = api_client.post(CREATE_URL, VALID, format="json")

    assert response.status_code == 403
    assert not Patient.objects.exists()


def test_user_without_view_permission_gets_403_and_no_read_is_logged(doctor_api, api_client):
    external_id = doctor_api.post(CREATE_URL, VALID, format="json").json()["external_id"]
    auditor_api = type(api_client)()
    auditor_api.force_authenticate(UserFactory(username="auditor1", roles=["auditor"]))

    response = auditor_api.get(_detail_url(external_id))

    assert response.status_code == 403
    assert not AccessLog.objects.filter(action="read").exists()


def test_anonymous_request_is_refused(api_client):
    response = api_client.post(CREATE_URL, VALID, format="json")
    assert response.status_code in (401, 403)
    assert not Patient.objects.exists()


def test_nurse_can_read_but_not_register(api_client, doctor_api, doctor):
    external_id = doctor_api.post(CREATE_URL, VALID, format="json").json()["external_id"]
    nurse = UserFactory(username="nurse1", roles=["nurse"])
    care_team_add(encounter=_treat(external_id, doctor), user=nurse, role="nurse", added_by=doctor)
    api_client.force_authenticate(nurse)

    assert api_client.get(_detail_url(external_id)).status_code == 200
    assert api_client.post(CREATE_URL, VALID, format="json").status_code == 403
