"""The encounter API: start, list (scoped; metadata for archivists), detail, finish, care team."""

import uuid

import pytest
from rest_framework.test import APIClient

from emr.models import CareTeamMember, Encounter
from emr.services.encounters import care_team_add
from hospital.core.models import AccessLog
from tests.emr.test_access_support import assign, make_patient, make_user, make_ward, start_inpatient, start_outpatient

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _list_url(patient) -> str:
    return f"/api/v1/emr/patients/{patient.external_id}/encounters/"


@pytest.fixture
def doctor():
    return make_user("dr_api", "doctor")


@pytest.fixture
def patient():
    return make_patient()


def test_doctor_starts_an_inpatient_encounter_and_becomes_its_attending(doctor, patient):
    ward = make_ward("W3")

    response = _client(doctor).post(
        _list_url(patient),
        {"encounter_class": "inpatient", "ward": str(ward.external_id), "reason": "Pneumonia"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    encounter = Encounter.objects.get()
    assert body["external_id"] == str(encounter.external_id)
    assert (body["status"], body["ward"]["code"], body["attending"]["username"]) == ("in_progress", "W3", "dr_api")
    assert body["care_team"] == [
        {"user": {"external_id": str(doctor.external_id), "username": "dr_api", "display_name": str(doctor)},
         "role": "attending"}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"encounter_class": "outpatient", "ward": "W3"}, "ward"),
        ({"encounter_class": "inpatient"}, "ward"),
        ({"encounter_class": "house_call"}, "encounter_class"),
        ({"encounter_class": "outpatient", "attending": str(uuid.uuid4())}, "attending"),
        ({"encounter_class": "outpatient", "started_at": "yesterday"}, "started_at"),
        ({"encounter_class": "outpatient", "started_at": "2999-01-01T00:00:00Z"}, "started_at"),
    ],
)
def test_bad_start_is_400_with_field_errors_and_writes_nothing(doctor, patient, payload, field):
    make_ward("W3")

    response = _client(doctor).post(_list_url(patient), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Encounter.objects.exists() and not CareTeamMember.objects.exists()
    assert not AccessLog.objects.exists()


def test_start_needs_the_add_permission_and_a_known_patient(doctor, patient):
    nurse = _client(make_user("nurse_api", "nurse"))
    assert nurse.post(_list_url(patient), {"encounter_class": "outpatient"}).status_code == 403
    unknown = f"/api/v1/emr/patients/{uuid.uuid4()}/encounters/"
    assert _client(doctor).post(unknown, {"encounter_class": "outpatient"}).status_code == 404
    assert not Encounter.objects.exists()


@pytest.mark.parametrize("encounters", [1, 3])
def test_list_for_the_care_team_is_logged_once_with_pinned_queries(
    doctor, patient, encounters, django_assert_num_queries
):
    nurse = make_user("nurse_team", "nurse")
    for _ in range(encounters):
        care_team_add(encounter=start_outpatient(patient, doctor), user=nurse, role="nurse", added_by=doctor)
    api = _client(doctor)

    # permissions (user, groups), patient with access, access again (encounter_list), encounters, care teams
    # with their users, and the access-log entry (savepoint, lock, previous hash, next id, insert, release)
    with django_assert_num_queries(12):
        response = api.get(_list_url(patient))

    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == encounters and all(row["clinical_access"] for row in rows)
    assert {m["user"]["username"] for m in rows[0]["care_team"]} == {"dr_api", "nurse_team"}
    entry = AccessLog.objects.get(action="read")
    assert (entry.object_type, entry.detail) == ("emr.encounter", {"list": True, "count": encounters})


def test_archivist_lists_encounter_metadata_without_clinical_content(doctor, patient):
    start_inpatient(patient, doctor, make_ward("W4"), reason="Confidential reason")

    response = _client(make_user("arch_api", "records_archivist")).get(_list_url(patient))

    assert response.status_code == 200
    (row,) = response.json()
    assert (row["encounter_class"], row["ward"]["code"], row["clinical_access"]) == ("inpatient", "W4", False)
    assert not {"reason", "attending", "care_team"} & set(row)
    assert "Confidential reason" not in response.content.decode()
    assert AccessLog.objects.get(action="read").detail == {"list": True, "count": 1, "metadata_only": True}


def test_doctor_not_treating_is_refused_the_list_and_the_attempt_is_logged(doctor, patient):
    start_outpatient(patient, doctor)
    stranger = make_user("dr_stranger", "doctor")

    response = _client(stranger).get(_list_url(patient))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "break_glass_required"
    entry = AccessLog.objects.get(action="read")
    assert (entry.actor_id, entry.detail) == (stranger.pk, {"denied": True})


def test_roles_without_encounter_access_are_refused(doctor, patient):
    start_outpatient(patient, doctor)
    for role in ("auditor", "pharmacist"):
        assert _client(make_user(f"u_{role}", role)).get(_list_url(patient)).status_code == 403
    assert APIClient().get(_list_url(patient)).status_code in (401, 403)


def test_ward_nurse_reads_the_encounter_but_cannot_finish_it(doctor, patient):
    ward = make_ward("W6")
    nurse = make_user("nurse_w6", "nurse")
    assign(nurse, ward)
    encounter = start_inpatient(patient, doctor, ward)
    api = _client(nurse)

    detail = api.get(f"/api/v1/emr/encounters/{encounter.external_id}/")
    assert detail.status_code == 200 and detail.json()["reason"] == ""
    assert api.post(f"/api/v1/emr/encounters/{encounter.external_id}/finish/").status_code == 403
    assert Encounter.objects.get().status == "in_progress"


def test_attending_finishes_once_and_a_stranger_cannot(doctor, patient):
    encounter = start_outpatient(patient, doctor)
    url = f"/api/v1/emr/encounters/{encounter.external_id}/finish/"

    assert _client(make_user("dr_x", "doctor")).post(url).status_code == 403
    finished = _client(doctor).post(url)
    assert finished.status_code == 200 and finished.json()["status"] == "finished"
    again = _client(doctor).post(url)
    assert again.status_code == 400 and "status" in again.json()["error"]["fields"]
    assert _client(doctor).post(f"/api/v1/emr/encounters/{uuid.uuid4()}/finish/").status_code == 404


def test_care_team_add_and_remove_over_the_api(doctor, patient):
    nurse = make_user("nurse_add", "nurse")
    encounter = start_outpatient(patient, doctor)
    api = _client(doctor)
    url = f"/api/v1/emr/encounters/{encounter.external_id}/care-team/"

    added = api.post(url, {"user": str(nurse.external_id), "role": "nurse"}, format="json")
    assert added.status_code == 201, added.content
    assert {m["user"]["username"] for m in added.json()["care_team"]} == {"dr_api", "nurse_add"}
    duplicate = api.post(url, {"user": str(nurse.external_id), "role": "nurse"}, format="json")
    assert duplicate.status_code == 400 and "user" in duplicate.json()["error"]["fields"]
    assert _client(nurse).get(f"/api/v1/emr/patients/{patient.external_id}/").status_code == 200

    assert api.delete(f"{url}{nurse.external_id}/").status_code == 204
    assert api.delete(f"{url}{doctor.external_id}/").status_code == 400
    assert api.delete(f"{url}{uuid.uuid4()}/").status_code == 404
    assert list(encounter.care_team.values_list("user__username", flat=True)) == ["dr_api"]
    assert _client(nurse).get(f"/api/v1/emr/patients/{patient.external_id}/").status_code == 403
