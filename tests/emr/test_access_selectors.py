"""emr.selectors.access: who may see which patient, clinically or as record metadata."""

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from emr.models import BreakGlassAccess, Encounter, Patient
from emr.selectors.access import (
    BreakGlassRequired,
    break_glass_active,
    patient_for_clinical_read,
    patient_for_clinical_write,
    patient_for_metadata_read,
    patients_visible_to,
    user_can_read_clinical,
)
from emr.services.access import break_glass_grant
from emr.services.encounters import care_team_add, care_team_remove, encounter_finish
from hospital.core.models import User
from tests.emr.test_access_support import assign, make_patient, make_user, make_ward, start_inpatient, start_outpatient

pytestmark = pytest.mark.django_db

REASON = "Patient collapsed in the corridor, needs urgent review"


@pytest.fixture
def doctor():
    return make_user("dr_treating", "doctor")


@pytest.fixture
def other_doctor():
    return make_user("dr_other", "doctor")


@pytest.fixture
def ward():
    return make_ward("W1")


def _fresh(user) -> User:
    # A new instance without the cached role names, as a request would load it.
    return User.objects.get(pk=user.pk)


def test_attending_reads_and_a_doctor_not_treating_is_refused_with_how_to_break_the_glass(doctor, other_doctor):
    patient = make_patient()
    start_outpatient(patient, doctor)

    assert patient_for_clinical_read(user=doctor, external_id=patient.external_id) == patient
    assert user_can_read_clinical(doctor, patient)
    assert not user_can_read_clinical(other_doctor, patient)
    with pytest.raises(BreakGlassRequired) as excinfo:
        patient_for_clinical_read(user=other_doctor, external_id=patient.external_id)
    assert f"/api/v1/emr/patients/{patient.external_id}/break-glass/" in str(excinfo.value)
    with pytest.raises(BreakGlassRequired):
        patient_for_clinical_write(user=other_doctor, external_id=patient.external_id)


def test_care_team_member_reads_until_removed(doctor, other_doctor):
    patient = make_patient()
    encounter = start_outpatient(patient, doctor)
    care_team_add(encounter=encounter, user=other_doctor, role="consultant", added_by=doctor)

    assert user_can_read_clinical(other_doctor, patient)

    care_team_remove(encounter=encounter, user=other_doctor, removed_by=doctor)
    assert not user_can_read_clinical(other_doctor, patient)


def test_care_team_of_a_finished_encounter_keeps_access_but_a_cancelled_one_gives_none(doctor, other_doctor):
    finished, cancelled = make_patient("李", "一"), make_patient("李", "二")
    encounter_finish(encounter=start_outpatient(finished, doctor), finished_by=doctor)
    Encounter.objects.filter(pk=start_outpatient(cancelled, other_doctor).pk).update(status="cancelled")

    assert user_can_read_clinical(doctor, finished)
    assert not user_can_read_clinical(other_doctor, cancelled)


def test_ward_nurse_reads_the_wards_inpatients_only_while_the_encounter_is_in_progress(doctor, ward):
    nurse = make_user("nurse_w1", "nurse")
    assign(nurse, ward)
    inpatient, outpatient, other_ward_patient = (make_patient(name, "Li") for name in ("In", "Out", "Other"))
    encounter = start_inpatient(inpatient, doctor, ward)
    start_outpatient(outpatient, doctor)
    start_inpatient(other_ward_patient, doctor, make_ward("W2"))

    assert set(patients_visible_to(nurse)) == {inpatient}
    assert patient_for_clinical_read(user=nurse, external_id=inpatient.external_id).via_break_glass is False

    encounter_finish(encounter=encounter, finished_by=doctor)
    assert not user_can_read_clinical(nurse, inpatient)


@pytest.mark.parametrize(
    ("starts_in_days", "ends_in_days", "reads"),
    [(-10, None, True), (-10, 0, True), (-10, -1, False), (1, None, False), (0, 5, True)],
)
def test_ward_access_follows_the_assignment_dates(doctor, ward, starts_in_days, ends_in_days, reads):
    nurse = make_user("nurse_dates", "nurse")
    assign(nurse, ward, starts_in_days=starts_in_days, ends_in_days=ends_in_days)
    patient = make_patient()
    start_inpatient(patient, doctor, ward)

    assert user_can_read_clinical(nurse, patient) is reads


def test_nurse_of_another_ward_is_refused_until_she_breaks_the_glass(doctor, ward):
    nurse = make_user("nurse_w2", "nurse")
    assign(nurse, make_ward("W2"))
    patient = make_patient()
    start_inpatient(patient, doctor, ward)

    with pytest.raises(BreakGlassRequired):
        patient_for_clinical_read(user=nurse, external_id=patient.external_id)
    assert break_glass_active(user=nurse, patient=patient) is None

    grant = break_glass_grant(user=nurse, patient=patient, reason=REASON)

    read = patient_for_clinical_read(user=nurse, external_id=patient.external_id)
    assert read == patient and read.via_break_glass is True
    assert break_glass_active(user=nurse, patient=patient) == grant
    assert list(patients_visible_to(nurse)) == [patient]


def test_an_expired_grant_opens_nothing(doctor, ward):
    nurse = make_user("nurse_exp", "nurse")
    patient = make_patient()
    start_inpatient(patient, doctor, ward)
    grant = break_glass_grant(user=nurse, patient=patient, reason=REASON)
    past = timezone.now() - timedelta(hours=3)
    BreakGlassAccess.objects.filter(pk=grant.pk).update(created_at=past, expires_at=past + timedelta(hours=1))

    with pytest.raises(BreakGlassRequired):
        patient_for_clinical_read(user=nurse, external_id=patient.external_id)
    assert break_glass_active(user=nurse, patient=patient) is None
    assert not patients_visible_to(nurse).exists()


def test_a_grant_is_for_its_own_user_and_patient_only(doctor):
    nurse, colleague = make_user("nurse_a", "nurse"), make_user("nurse_b", "nurse")
    patient, other = make_patient("A", "One"), make_patient("B", "Two")
    break_glass_grant(user=nurse, patient=patient, reason=REASON)

    assert user_can_read_clinical(nurse, patient)
    assert not user_can_read_clinical(nurse, other)
    assert not user_can_read_clinical(colleague, patient)


def test_records_archivist_sees_every_patients_metadata_but_no_clinical_content(doctor):
    archivist = make_user("archivist", "records_archivist")
    first, second = make_patient("A", "One"), make_patient("B", "Two")
    start_outpatient(first, doctor)

    assert set(patients_visible_to(archivist, "metadata")) == {first, second}
    assert not patients_visible_to(archivist).exists()
    assert not user_can_read_clinical(archivist, first)
    assert patient_for_metadata_read(user=archivist, external_id=second.external_id) == second
    with pytest.raises(PermissionDenied) as excinfo:
        patient_for_clinical_read(user=archivist, external_id=first.external_id)
    assert not isinstance(excinfo.value, BreakGlassRequired)
    # The glass opens clinical content, which the archivist's role never reads.
    with pytest.raises(PermissionDenied):
        break_glass_grant(user=archivist, patient=first, reason=REASON)
    assert not BreakGlassAccess.objects.exists()


def test_clinicians_see_metadata_only_where_they_see_clinical_content(doctor):
    treated, untreated = make_patient("A", "One"), make_patient("B", "Two")
    start_outpatient(treated, doctor)

    assert list(patients_visible_to(doctor, "metadata")) == [treated]
    with pytest.raises(BreakGlassRequired):
        patient_for_metadata_read(user=doctor, external_id=untreated.external_id)


def test_non_clinical_roles_see_nothing_and_superusers_everything(doctor):
    patient = make_patient()
    start_outpatient(patient, doctor)
    pharmacist = make_user("pharm", "pharmacist")
    root = User.objects.create_superuser("root", "root@hospital.test", "x")

    assert not patients_visible_to(pharmacist).exists()
    assert not patients_visible_to(pharmacist, "metadata").exists()
    with pytest.raises(PermissionDenied):
        patient_for_clinical_read(user=pharmacist, external_id=patient.external_id)
    assert list(patients_visible_to(root)) == [patient]
    assert patient_for_clinical_read(user=root, external_id=patient.external_id) == patient


def test_unknown_patient_is_does_not_exist_for_clinicians_and_permission_denied_for_others(doctor):
    with pytest.raises(Patient.DoesNotExist):
        patient_for_clinical_read(user=doctor, external_id=uuid.uuid4())
    with pytest.raises(PermissionDenied):
        patient_for_clinical_read(user=make_user("fin", "finance_officer"), external_id=uuid.uuid4())


def test_unknown_purpose_is_a_programming_error(doctor):
    with pytest.raises(ValueError):
        patients_visible_to(doctor, "billing")


@pytest.mark.parametrize("patients_per_path", [1, 4])
def test_visible_list_is_one_query_whatever_the_number_of_patients(doctor, ward, patients_per_path):
    # Given patients reached through every path: attending, care team, ward and break the glass
    nurse = make_user("nurse_q", "nurse")
    assign(nurse, ward)
    expected = set()
    for i in range(patients_per_path):
        attended, on_team, on_ward, glass, hidden = (make_patient(f"P{i}", name) for name in "ABCDE")
        start_outpatient(attended, nurse)
        care_team_add(encounter=start_outpatient(on_team, doctor), user=nurse, role="nurse", added_by=doctor)
        start_inpatient(on_ward, doctor, ward)
        break_glass_grant(user=nurse, patient=glass, reason=REASON)
        start_outpatient(hidden, doctor)
        expected |= {attended, on_team, on_ward, glass}
    reader = _fresh(nurse)

    # When the list is evaluated: one query for the roles, one for the patients
    with CaptureQueriesContext(connection) as queries:
        visible = set(patients_visible_to(reader))

    # Then
    assert visible == expected
    assert len(queries) == 2
    assert "EXISTS" in queries[-1]["sql"]


def test_a_clinical_read_check_is_one_query_after_the_roles(doctor):
    patient = make_patient()
    start_outpatient(patient, doctor)
    reader = _fresh(doctor)
    reader.role_names  # noqa: B018 - load the roles first

    with CaptureQueriesContext(connection) as queries:
        patient_for_clinical_read(user=reader, external_id=patient.external_id)
    assert len(queries) == 1
