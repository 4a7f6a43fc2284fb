"""Conditions coded in ICD-10: condition_record / condition_update_status and their API."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from emr.models import Condition
from emr.selectors.clinical import active_problems
from emr.services.clinical import condition_record, condition_update_status
from hospital.core.models import AccessLog, User
from tests.emr.test_clinical_support import ensure_icd10, make_patient, make_user, treat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _icd10():
    ensure_icd10()


@pytest.fixture
def doctor():
    return make_user("cond_doctor", "doctor")


@pytest.fixture
def patient(doctor):
    patient = make_patient()
    treat(patient, doctor)
    return patient


@pytest.fixture
def api(api_client, doctor):
    api_client.force_authenticate(doctor)
    return api_client


def url(patient, suffix=""):
    return f"/api/v1/emr/patients/{patient.external_id}/conditions/{suffix}"


def test_record_a_condition_by_code_with_or_without_the_dot(doctor, patient):
    condition = condition_record(patient=patient, icd10_code="i219", recorded_by=doctor, note=" 胸痛3小时 ")

    assert condition.icd10.code == "I21.9"
    assert (condition.clinical_status, condition.verification, condition.note) == ("active", "confirmed", "胸痛3小时")
    entry = AccessLog.objects.latest("id")
    assert (entry.action, entry.object_type, entry.object_id) == ("create", "emr.condition", str(condition.external_id))
    assert entry.patient_external_id == patient.external_id
    assert entry.detail["icd10"] == "I21.9"


@pytest.mark.parametrize(
    ("code", "words"),
    [("X99.99", "not a WHO ICD-10 code"), ("I21", "category"), ("I20-I25", "block"), ("IX", "chapter")],
)
def test_unknown_and_unrecordable_codes_are_refused(doctor, patient, code, words):
    logged = AccessLog.objects.count()

    with pytest.raises(ValidationError) as caught:
        condition_record(patient=patient, icd10_code=code, recorded_by=doctor)

    assert words in caught.value.message_dict["icd10_code"][0]
    assert Condition.objects.count() == 0
    assert AccessLog.objects.count() == logged


def test_api_records_a_condition(api, patient):
    onset = timezone.localdate() - timedelta(days=400)

    response = api.post(url(patient), {"icd10_code": "I10", "onset_date": onset.isoformat()}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["icd10"]["code"] == "I10" and body["icd10"]["title_zh"] == "原发性高血压"
    assert body["onset_date"] == onset.isoformat()
    assert Condition.objects.get().external_id.hex == body["external_id"].replace("-", "")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"icd10_code": "Q99.99"}, "icd10_code"),
        ({"icd10_code": "I20-I25"}, "icd10_code"),
        ({"icd10_code": "I10", "onset_date": "2999-01-01"}, "onset_date"),
        ({"icd10_code": "I10", "clinical_status": "cured"}, "clinical_status"),
        ({}, "icd10_code"),
    ],
)
def test_api_bad_input_is_400_with_field_errors_and_writes_nothing(api, patient, payload, field):
    logged = AccessLog.objects.count()

    response = api.post(url(patient), payload, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert Condition.objects.count() == 0
    assert AccessLog.objects.count() == logged


def test_api_refuses_a_doctor_who_does_not_treat_the_patient(api_client, patient):
    api_client.force_authenticate(make_user("cond_stranger", "doctor"))

    assert api_client.post(url(patient), {"icd10_code": "I10"}, format="json").status_code == 403
    assert api_client.get(url(patient)).status_code == 403
    assert Condition.objects.count() == 0


def test_api_nurse_reads_but_cannot_record(api_client, patient):
    nurse = make_user("cond_nurse", "nurse")
    treat(patient, nurse)
    api_client.force_authenticate(nurse)

    assert api_client.get(url(patient)).status_code == 200
    assert api_client.post(url(patient), {"icd10_code": "I10"}, format="json").status_code == 403


def test_api_unknown_patient_is_404(api):
    assert api.get("/api/v1/emr/patients/00000000-0000-0000-0000-000000000000/conditions/").status_code == 404


def test_resolve_sets_the_abatement_date_and_leaves_the_problem_list(doctor, patient):
    condition = condition_record(patient=patient, icd10_code="J18.9", recorded_by=doctor)

    condition_update_status(condition=condition, updated_by=doctor, clinical_status="resolved")

    condition.refresh_from_db()
    assert condition.abatement_date == timezone.localdate()
    assert list(active_problems(patient=patient)) == []
    entry = AccessLog.objects.latest("id")
    assert entry.action == "write" and entry.detail["after"]["clinical_status"] == "resolved"


def test_entered_in_error_leaves_the_problem_list(doctor, patient):
    kept = condition_record(patient=patient, icd10_code="I10", recorded_by=doctor)
    wrong = condition_record(patient=patient, icd10_code="E11.9", recorded_by=doctor)

    condition_update_status(condition=wrong, updated_by=doctor, verification="entered_in_error")

    assert list(active_problems(patient=patient)) == [kept]


def test_resolution_before_onset_is_refused(doctor, patient):
    onset = timezone.localdate() - timedelta(days=10)
    condition = condition_record(patient=patient, icd10_code="I10", recorded_by=doctor, onset_date=onset)

    with pytest.raises(ValidationError) as caught:
        condition_update_status(
            condition=condition,
            updated_by=doctor,
            clinical_status="resolved",
            abatement_date=onset - timedelta(days=1),
        )

    assert "abatement_date" in caught.value.message_dict
    condition.refresh_from_db()
    assert condition.clinical_status == "active"


def test_api_patch_status(api, doctor, patient):
    condition = condition_record(patient=patient, icd10_code="I10", recorded_by=doctor)

    response = api.patch(url(patient, f"{condition.external_id}/"), {"clinical_status": "inactive"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["clinical_status"] == "inactive"
    assert response.json()["abatement_date"] == timezone.localdate().isoformat()
    bad = api.patch(url(patient, f"{condition.external_id}/"), {"clinical_status": "gone"}, format="json")
    assert bad.status_code == 400


def test_api_list_logs_one_read_and_its_query_count_does_not_grow(api, doctor, patient, django_assert_num_queries):
    condition_record(patient=patient, icd10_code="I10", recorded_by=doctor)

    def listed():
        logged = AccessLog.objects.count()
        api.force_authenticate(User.objects.get(pk=doctor.pk))  # a fresh user, as every request loads one
        # permissions and roles (3), the patient with the access check, the conditions, the access-log entry (6)
        with django_assert_num_queries(11):
            response = api.get(url(patient))
        assert response.status_code == 200
        assert AccessLog.objects.count() == logged + 1
        return response.json()

    assert [c["icd10"]["code"] for c in listed()] == ["I10"]
    for code in ("E11.9", "J44.9", "N18.9", "I48.9"):
        condition_record(patient=patient, icd10_code=code, recorded_by=doctor)
    assert len(listed()) == 5
    entry = AccessLog.objects.latest("id")
    assert (entry.action, entry.object_type, entry.detail["count"]) == ("read", "emr.condition", 5)


def test_api_list_filters_by_status(api, doctor, patient):
    condition = condition_record(patient=patient, icd10_code="I10", recorded_by=doctor)
    condition_update_status(condition=condition, updated_by=doctor, clinical_status="resolved")

    assert api.get(url(patient)).json() == []
    assert len(api.get(url(patient), {"status": "all"}).json()) == 1
    assert len(api.get(url(patient), {"status": "resolved"}).json()) == 1
    assert api.get(url(patient), {"status": "bogus"}).status_code == 400
