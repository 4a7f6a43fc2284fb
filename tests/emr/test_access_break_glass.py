"""Break the glass: the service, the API, the review, and the patient read API's scoping."""

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from emr.models import BreakGlassAccess
from emr.services.access import break_glass_grant, break_glass_review
from hospital.core.models import AccessLog
from tests.emr.test_access_support import assign, make_patient, make_user, make_ward, start_inpatient, start_outpatient

pytestmark = pytest.mark.django_db

REASON = "Cardiac arrest call on the ward, covering for the team"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _grant_url(patient) -> str:
    return f"/api/v1/emr/patients/{patient.external_id}/break-glass/"


def _detail_url(patient) -> str:
    return f"/api/v1/emr/patients/{patient.external_id}/"


@pytest.fixture
def setting():
    """A patient on ward W1 treated by a doctor, and a nurse assigned to ward W2."""
    doctor = make_user("dr_w1", "doctor")
    nurse = make_user("nurse_w2", "nurse")
    assign(nurse, make_ward("W2"))
    patient = make_patient()
    start_inpatient(patient, doctor, make_ward("W1"))
    return doctor, nurse, patient


# --- the service ---------------------------------------------------------------------------------


def test_grant_lasts_the_configured_minutes_and_is_logged_with_its_reason(setting, settings):
    _doctor, nurse, patient = setting
    settings.BREAK_GLASS_MINUTES = 30
    before = timezone.now()

    grant = break_glass_grant(user=nurse, patient=patient, reason=f"  {REASON}  ")

    assert grant.reason == REASON
    assert before + timedelta(minutes=30) <= grant.expires_at <= timezone.now() + timedelta(minutes=30)
    assert grant.reviewed_at is None
    entry = AccessLog.objects.get(action="break_glass")
    assert (entry.actor_id, entry.patient_external_id, entry.purpose) == (nurse.pk, patient.external_id, REASON)
    assert entry.object_id == str(grant.external_id) and entry.detail["minutes"] == 30


@pytest.mark.parametrize(
    ("reason", "minutes", "field"),
    [("", None, "reason"), ("   urgent   ", None, "reason"), (None, None, "reason"), (REASON, 0, "minutes"),
     (REASON, 61, "minutes"), (REASON, "30", "minutes")],
)  # fmt: skip
def test_bad_reason_or_minutes_is_refused_and_nothing_is_written(setting, reason, minutes, field):
    _doctor, nurse, patient = setting
    log_count = AccessLog.objects.count()

    with pytest.raises(ValidationError) as excinfo:
        break_glass_grant(user=nurse, patient=patient, reason=reason, minutes=minutes)

    assert field in excinfo.value.message_dict
    assert not BreakGlassAccess.objects.exists()
    assert AccessLog.objects.count() == log_count


@pytest.mark.parametrize("role", ["records_archivist", "pharmacist", "auditor", "finance_officer"])
def test_only_clinicians_break_the_glass(setting, role):
    _doctor, _nurse, patient = setting
    with pytest.raises(PermissionDenied):
        break_glass_grant(user=make_user(f"u_{role}", role), patient=patient, reason=REASON)
    assert not BreakGlassAccess.objects.exists()


def test_review_is_once_by_an_auditor_and_never_of_ones_own_grant(setting):
    _doctor, nurse, patient = setting
    auditor = make_user("auditor1", "auditor")
    grant = break_glass_grant(user=nurse, patient=patient, reason=REASON)

    with pytest.raises(PermissionDenied):
        break_glass_review(grant=grant, reviewed_by=nurse, note="fine")
    reviewed = break_glass_review(grant=grant, reviewed_by=auditor, note="  Checked with the ward sister.  ")
    assert (reviewed.reviewed_by, reviewed.review_note) == (auditor, "Checked with the ward sister.")
    assert reviewed.reviewed_at is not None
    with pytest.raises(ValidationError):
        break_glass_review(grant=grant, reviewed_by=make_user("auditor2", "auditor"), note="again")

    doctor_auditor = make_user("dr_audit", "doctor", "auditor")
    own = break_glass_grant(user=doctor_auditor, patient=patient, reason=REASON)
    with pytest.raises(PermissionDenied):
        break_glass_review(grant=own, reviewed_by=doctor_auditor, note="self")
    assert BreakGlassAccess.objects.get(pk=own.pk).reviewed_at is None


# --- the patient read API and the break-the-glass API ---------------------------------------------


def test_nurse_of_another_ward_is_refused_then_breaks_the_glass_and_reads_and_the_log_shows_both(setting):
    _doctor, nurse, patient = setting
    api = _client(nurse)

    refused = api.get(_detail_url(patient))
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "break_glass_required"
    assert _grant_url(patient) in error["message"]
    denial = AccessLog.objects.get(action="read", actor_id=nurse.pk)
    assert (denial.patient_external_id, denial.detail) == (patient.external_id, {"denied": True})

    granted = api.post(_grant_url(patient), {"reason": REASON}, format="json")
    assert granted.status_code == 201, granted.content
    body = granted.json()
    grant = BreakGlassAccess.objects.get()
    assert body["external_id"] == str(grant.external_id) and body["is_active"] is True
    assert body["expires_at"] and body["reviewed_at"] is None

    read = api.get(_detail_url(patient))
    assert read.status_code == 200 and read.json()["mrn"] == patient.mrn
    entries = list(AccessLog.objects.filter(actor_id=nurse.pk).order_by("id").values_list("action", "detail"))
    assert entries == [("read", {"denied": True}), ("break_glass", entries[1][1]), ("read", {"break_glass": True})]


def test_doctor_not_treating_gets_403_and_the_attending_reads(setting):
    doctor, _nurse, patient = setting
    stranger = make_user("dr_stranger", "doctor")

    assert _client(stranger).get(_detail_url(patient)).status_code == 403
    response = _client(doctor).get(_detail_url(patient))
    assert response.status_code == 200
    assert response.json()["allergy_status"] == "unknown"
    assert AccessLog.objects.filter(action="read", actor_id=doctor.pk, detail={}).count() == 1


def test_archivist_reads_the_metadata_without_the_allergy_status(setting):
    _doctor, _nurse, patient = setting
    response = _client(make_user("arch", "records_archivist")).get(_detail_url(patient))

    assert response.status_code == 200
    assert response.json()["mrn"] == patient.mrn
    assert "allergy_status" not in response.json()
    assert AccessLog.objects.get(action="read").detail == {"metadata_only": True}


@pytest.mark.parametrize(
    "payload", [{}, {"reason": ""}, {"reason": "too short"}, {"reason": REASON, "minutes": 0}, {"reason": ["x"]}]
)
def test_break_glass_api_bad_input_is_400_and_writes_nothing(setting, payload):
    _doctor, nurse, patient = setting
    log_count = AccessLog.objects.count()

    response = _client(nurse).post(_grant_url(patient), payload, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert set(response.json()["error"]["fields"]) <= {"reason", "minutes"}
    assert not BreakGlassAccess.objects.exists()
    assert AccessLog.objects.count() == log_count


def test_break_glass_api_refuses_non_clinicians_and_unknown_patients(setting):
    _doctor, nurse, patient = setting

    archivist = _client(make_user("arch2", "records_archivist"))
    assert archivist.post(_grant_url(patient), {"reason": REASON}, format="json").status_code == 403
    unknown = _client(nurse).post(f"/api/v1/emr/patients/{uuid.uuid4()}/break-glass/", {"reason": REASON})
    assert unknown.status_code == 404
    assert APIClient().post(_grant_url(patient), {"reason": REASON}).status_code in (401, 403)
    assert not BreakGlassAccess.objects.exists()


def test_auditor_lists_unreviewed_grants_and_reviews_them(setting, django_assert_num_queries):
    _doctor, nurse, patient = setting
    other = make_patient("Other", "Patient")
    first = break_glass_grant(user=nurse, patient=patient, reason=REASON)
    second = break_glass_grant(user=nurse, patient=other, reason=REASON)
    auditor = _client(make_user("auditor1", "auditor"))

    # roles, count, one page with user, patient and reviewer joined in
    with django_assert_num_queries(3):
        listed = auditor.get("/api/v1/emr/break-glass/?unreviewed=1")
    assert listed.status_code == 200
    assert [row["external_id"] for row in listed.json()["results"]] == [str(second.external_id), str(first.external_id)]

    reviewed = auditor.post(f"/api/v1/emr/break-glass/{first.external_id}/review/", {"note": "Justified."})
    assert reviewed.status_code == 200, reviewed.content
    assert reviewed.json()["review_note"] == "Justified." and reviewed.json()["reviewed_by"]["username"] == "auditor1"
    again = auditor.post(f"/api/v1/emr/break-glass/{first.external_id}/review/", {"note": "Again."})
    assert again.status_code == 400

    remaining = auditor.get("/api/v1/emr/break-glass/?unreviewed=1").json()["results"]
    assert [row["external_id"] for row in remaining] == [str(second.external_id)]
    assert len(auditor.get("/api/v1/emr/break-glass/").json()["results"]) == 2


def test_clinicians_neither_list_nor_review_grants(setting):
    _doctor, nurse, patient = setting
    grant = break_glass_grant(user=nurse, patient=patient, reason=REASON)
    api = _client(nurse)

    assert api.get("/api/v1/emr/break-glass/").status_code == 403
    assert api.post(f"/api/v1/emr/break-glass/{grant.external_id}/review/", {"note": "ok"}).status_code == 403
    assert BreakGlassAccess.objects.get().reviewed_at is None


def test_outpatient_attending_reads_via_the_api_after_starting_the_encounter():
    doctor = make_user("dr_out", "doctor")
    patient = make_patient()
    api = _client(doctor)
    assert api.get(_detail_url(patient)).status_code == 403

    start_outpatient(patient, doctor)

    assert api.get(_detail_url(patient)).status_code == 200
