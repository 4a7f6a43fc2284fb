"""encounter_start, encounter_finish, care_team_add/remove and ward_assignment_create: validation and logging."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from emr.models import CareTeamMember, Encounter
from emr.services.encounters import care_team_add, care_team_remove, encounter_finish, encounter_start
from hospital.core.models import AccessLog
from scheduling.models import WardAssignment
from scheduling.services.rosters import ward_assignment_create
from tests.emr.test_access_support import make_patient, make_user, make_ward, start_inpatient, start_outpatient

pytestmark = pytest.mark.django_db


@pytest.fixture
def doctor():
    return make_user("dr_enc", "doctor")


@pytest.fixture
def patient():
    return make_patient()


def test_start_puts_the_attending_on_the_care_team_and_logs_the_write(doctor, patient):
    clerk = make_user("dr_clerk", "doctor")

    encounter = encounter_start(
        patient=patient, encounter_class="emergency", attending=doctor, started_by=clerk, reason="  chest pain "
    )

    assert (encounter.status, encounter.reason, encounter.ended_at) == ("in_progress", "chest pain", None)
    member = CareTeamMember.objects.get(encounter=encounter)
    assert (member.user, member.role) == (doctor, "attending")
    entry = AccessLog.objects.get()
    assert (entry.action, entry.actor_id, entry.object_type) == ("create", clerk.pk, "emr.encounter")
    assert (entry.object_id, entry.patient_external_id) == (str(encounter.external_id), patient.external_id)


@pytest.mark.parametrize(
    ("encounter_class", "with_ward", "overrides", "field"),
    [
        ("outpatient", True, {}, "ward"),
        ("inpatient", False, {}, "ward"),
        ("ward_round", False, {}, "encounter_class"),
        ("outpatient", False, {"started_at": timezone.now() + timedelta(hours=2)}, "started_at"),
        ("outpatient", False, {"reason": "x" * 301}, "reason"),
    ],
)
def test_invalid_start_is_refused_and_nothing_is_written(doctor, patient, encounter_class, with_ward, overrides, field):
    ward = make_ward() if with_ward else None

    with pytest.raises(ValidationError) as excinfo:
        encounter_start(
            patient=patient, encounter_class=encounter_class, attending=doctor, started_by=doctor, ward=ward,
            **overrides,
        )  # fmt: skip

    assert field in excinfo.value.message_dict
    assert not Encounter.objects.exists() and not CareTeamMember.objects.exists()
    assert not AccessLog.objects.exists()


def test_attending_must_be_a_clinician_and_the_patient_not_merged_away(doctor, patient):
    with pytest.raises(ValidationError) as excinfo:
        start_outpatient(patient, make_user("fin", "finance_officer"))
    assert "attending" in excinfo.value.message_dict

    survivor = make_patient("Survivor", "One")
    patient.is_active, patient.merged_into = False, survivor
    patient.save()
    with pytest.raises(ValidationError) as excinfo:
        start_outpatient(patient, doctor)
    assert "patient" in excinfo.value.message_dict
    assert not Encounter.objects.exists()


def test_finish_ends_the_encounter_once(doctor, patient):
    encounter = start_outpatient(patient, doctor, started_at=timezone.now() - timedelta(hours=1))

    finished = encounter_finish(encounter=encounter, finished_by=doctor)

    assert finished.status == "finished" and finished.ended_at is not None
    assert AccessLog.objects.filter(action="write", object_id=str(encounter.external_id)).count() == 1
    with pytest.raises(ValidationError) as excinfo:
        encounter_finish(encounter=encounter, finished_by=doctor)
    assert "status" in excinfo.value.message_dict
    assert AccessLog.objects.filter(action="write").count() == 1


@pytest.mark.parametrize(("hours", "field"), [(-2, "ended_at"), (3, "ended_at")])
def test_finish_refuses_an_end_before_the_start_or_in_the_future(doctor, patient, hours, field):
    encounter = start_outpatient(patient, doctor, started_at=timezone.now() - timedelta(hours=1))

    with pytest.raises(ValidationError) as excinfo:
        encounter_finish(encounter=encounter, finished_by=doctor, ended_at=timezone.now() + timedelta(hours=hours))

    assert field in excinfo.value.message_dict
    encounter.refresh_from_db()
    assert (encounter.status, encounter.ended_at) == ("in_progress", None)


def test_care_team_add_and_remove(doctor, patient):
    nurse = make_user("nurse_ct", "nurse")
    encounter = start_outpatient(patient, doctor)

    care_team_add(encounter=encounter, user=nurse, role="nurse", added_by=doctor)
    assert set(encounter.care_team.values_list("user__username", "role")) == {
        ("dr_enc", "attending"),
        ("nurse_ct", "nurse"),
    }
    with pytest.raises(ValidationError) as excinfo:
        care_team_add(encounter=encounter, user=nurse, role="nurse", added_by=doctor)
    assert "user" in excinfo.value.message_dict

    care_team_remove(encounter=encounter, user=nurse, removed_by=doctor)
    assert list(encounter.care_team.values_list("user__username", flat=True)) == ["dr_enc"]
    details = [e.detail for e in AccessLog.objects.filter(action="write").order_by("id")]
    assert [d["care_team"] for d in details] == ["add", "remove"]


@pytest.mark.parametrize(
    ("username", "role", "field"),
    [("fin_ct", "finance_officer", "user"), ("nurse_bad", "nurse", "role")],
)
def test_care_team_add_refuses_non_clinicians_and_unknown_roles(doctor, patient, username, role, field):
    user = make_user(username, role)
    encounter = start_outpatient(patient, doctor)

    with pytest.raises(ValidationError) as excinfo:
        care_team_add(encounter=encounter, user=user, role="surgeon" if field == "role" else "nurse", added_by=doctor)

    assert field in excinfo.value.message_dict
    assert encounter.care_team.count() == 1


def test_care_team_of_a_finished_encounter_cannot_change_and_the_attending_stays(doctor, patient):
    nurse = make_user("nurse_fin", "nurse")
    encounter = start_outpatient(patient, doctor)
    with pytest.raises(ValidationError):
        care_team_remove(encounter=encounter, user=doctor, removed_by=doctor)
    with pytest.raises(ValidationError):
        care_team_remove(encounter=encounter, user=nurse, removed_by=doctor)

    encounter_finish(encounter=encounter, finished_by=doctor)
    with pytest.raises(ValidationError) as excinfo:
        care_team_add(encounter=encounter, user=nurse, role="nurse", added_by=doctor)
    assert "encounter" in excinfo.value.message_dict
    assert encounter.care_team.count() == 1


def test_inpatient_encounter_keeps_its_ward(doctor, patient):
    ward = make_ward("W9")
    assert start_inpatient(patient, doctor, ward).ward == ward


def test_ward_assignment_create_validates_dates_and_duplicates():
    nurse, ward = make_user("nurse_wa", "nurse"), make_ward("W5")
    today = timezone.localdate()

    assignment = ward_assignment_create(ward=ward, user=nurse, role="nurse", starts_on=today)
    assert assignment.ends_on is None

    with pytest.raises(ValidationError):
        ward_assignment_create(ward=ward, user=nurse, role="nurse", starts_on=today)
    with pytest.raises(ValidationError):
        ward_assignment_create(
            ward=ward, user=nurse, role="nurse", starts_on=today + timedelta(days=2), ends_on=today + timedelta(days=1)
        )
    with pytest.raises(ValidationError):
        ward_assignment_create(ward=ward, user=nurse, role="matron", starts_on=today + timedelta(days=5))
    assert WardAssignment.objects.count() == 1
