"""patient_merge and patient_merge_reverse: every reference moves and comes back exactly; administrators only."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from emr.models import (
    Allergy,
    BreakGlassAccess,
    ClinicalNote,
    Condition,
    Encounter,
    Icd10Code,
    MedicationOrder,
    Observation,
    Patient,
    PatientMerge,
)
from emr.selectors.patients import patient_identity_ids
from emr.services.merge import patient_merge, patient_merge_reverse, patient_references
from emr.services.patients import patient_create
from hospital.core.models import AccessLog
from pharmacy.models import Drug
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MOVED_MODELS = [Encounter, Observation, Condition, Allergy, MedicationOrder, ClinicalNote]


@pytest.fixture
def admin_user():
    return UserFactory(username="admin1", roles=["administrator"])


def _patient(clerk, given_name, birth=date(1960, 2, 3)):
    return patient_create(created_by=clerk, family_name="陈", given_name=given_name, sex="male", birth_date=birth)


def _record(patient, doctor):
    """One row of every kind of record, a signed note among them; returns {model: [ids]}."""
    now = timezone.now()
    encounter = Encounter.objects.create(
        patient=patient, encounter_class="outpatient", started_at=now, attending=doctor
    )
    icd10, _ = Icd10Code.objects.get_or_create(
        code="I10", defaults={"title": "Essential hypertension", "kind": "category"}
    )
    drug, _ = Drug.objects.get_or_create(
        generic_name_en="Mergetestol", form="tablet", strength="7 mg",
        defaults={"generic_name_zh": "合并测试", "route": "oral", "atc_code": "C08CA01"},
    )  # fmt: skip
    note = ClinicalNote.objects.create(
        patient=patient, encounter=encounter, author=doctor, thread=uuid.uuid4(), chief_complaint="Headache",
        status="signed", signed_at=now, signed_by=doctor,
    )  # fmt: skip
    rows = [
        encounter,
        note,
        Observation.objects.create(
            patient=patient, encounter=encounter, category="vital_sign", code="heart_rate",
            value_numeric=Decimal("72"), unit="/min", effective_at=now, recorded_by=doctor,
        ),
        Condition.objects.create(patient=patient, encounter=encounter, icd10=icd10, recorded_by=doctor),
        Allergy.objects.create(patient=patient, substance="Penicillin", recorded_by=doctor),
        MedicationOrder.objects.create(
            patient=patient, encounter=encounter, drug=drug, dose=Decimal("5"), dose_unit="mg", route="oral",
            frequency="qd", ordered_by=doctor, ordered_at=now,
        ),
    ]  # fmt: skip
    return {type(row): [row.pk] for row in rows}


def _owners(model, ids):
    return set(model.objects.filter(pk__in=ids).values_list("patient_id", flat=True))


def test_references_are_discovered_generically():
    found = {f"{fk.model._meta.label_lower}.{fk.name}" for fk in patient_references()}

    assert {f"{m._meta.label_lower}.patient" for m in MOVED_MODELS} <= found
    assert not found & {"emr.patientmerge.survivor", "emr.patientmerge.duplicate", "emr.patient.merged_into"}


def test_merge_moves_every_record_and_reverse_restores_exactly(doctor, admin_user):
    # given two registrations of the same man, each with records
    survivor, duplicate = _patient(doctor, "明"), _patient(doctor, "明")
    survivor_rows = _record(survivor, doctor)
    duplicate_rows = _record(duplicate, doctor)

    # when the administrator merges them
    merge = patient_merge(survivor=survivor, duplicate=duplicate, reason="Same ID card", performed_by=admin_user)

    # then everything of the duplicate is on the survivor, signed note included, content untouched
    for model in MOVED_MODELS:
        assert _owners(model, duplicate_rows[model]) == {survivor.pk}
        assert merge.moved[model._meta.label_lower] == {"patient": duplicate_rows[model]}
    note = ClinicalNote.objects.get(pk=duplicate_rows[ClinicalNote][0])
    assert (note.status, note.chief_complaint) == ("signed", "Headache")
    duplicate.refresh_from_db()
    assert (duplicate.is_active, duplicate.merged_into_id) == (False, survivor.pk)
    assert patient_identity_ids(survivor) == [survivor.pk, duplicate.pk]
    logged = AccessLog.objects.filter(action="write", object_id=str(merge.external_id))
    assert set(logged.values_list("patient_external_id", flat=True)) == {survivor.external_id, duplicate.external_id}

    # and a record made on the survivor after the merge stays there when the merge is reversed
    later = Allergy.objects.create(patient=survivor, substance="Latex", recorded_by=doctor)
    patient_merge_reverse(merge=merge, reversed_by=admin_user)

    for model in MOVED_MODELS:
        assert _owners(model, duplicate_rows[model]) == {duplicate.pk}
        assert _owners(model, survivor_rows[model]) == {survivor.pk}
    assert Allergy.objects.get(pk=later.pk).patient_id == survivor.pk
    duplicate.refresh_from_db()
    merge.refresh_from_db()
    assert (duplicate.is_active, duplicate.merged_into_id) == (True, None)
    assert merge.reversed_by == admin_user and merge.reversed_at is not None
    assert patient_identity_ids(survivor) == [survivor.pk]


def test_break_the_glass_grants_stay_on_the_record_that_was_opened(doctor, admin_user):
    survivor, duplicate = _patient(doctor, "明"), _patient(doctor, "明")
    grant = BreakGlassAccess.objects.create(
        user=doctor, patient=duplicate, reason="Emergency at night", expires_at=timezone.now() + timedelta(hours=1)
    )

    patient_merge(survivor=survivor, duplicate=duplicate, reason="Same person", performed_by=admin_user)

    assert BreakGlassAccess.objects.get(pk=grant.pk).patient_id == duplicate.pk


@pytest.mark.parametrize("roles", [["doctor"], ["records_archivist"], ["auditor"]])
def test_only_administrators_merge(doctor, roles):
    survivor, duplicate = _patient(doctor, "明"), _patient(doctor, "明")
    rows = _record(duplicate, doctor)
    user = UserFactory(username="not-admin", roles=roles)

    with pytest.raises(PermissionDenied):
        patient_merge(survivor=survivor, duplicate=duplicate, reason="Same person", performed_by=user)

    assert not PatientMerge.objects.exists()
    assert _owners(Encounter, rows[Encounter]) == {duplicate.pk}


def test_non_admin_merge_over_the_api_is_403(doctor_api, doctor):
    survivor, duplicate = _patient(doctor, "明"), _patient(doctor, "明")

    response = doctor_api.post(
        f"/api/v1/emr/patients/{survivor.external_id}/merge/",
        {"duplicate": str(duplicate.external_id), "reason": "Same person"},
        format="json",
    )

    assert response.status_code == 403
    assert Patient.objects.filter(is_active=True).count() == 2


def test_merge_and_reverse_over_the_api(api_client, doctor, admin_user):
    survivor, duplicate = _patient(doctor, "明"), _patient(doctor, "敏")
    rows = _record(duplicate, doctor)
    api_client.force_authenticate(admin_user)

    response = api_client.post(
        f"/api/v1/emr/patients/{survivor.external_id}/merge/",
        {"duplicate": str(duplicate.external_id), "reason": "Same ID card, typo in the given name"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["moved"]["emr.encounter"] == 1 and body["duplicate"] == str(duplicate.external_id)
    reverse_url = f"/api/v1/emr/merges/{body['external_id']}/reverse/"
    assert api_client.post(reverse_url).status_code == 200
    assert _owners(Encounter, rows[Encounter]) == {duplicate.pk}
    again = api_client.post(reverse_url)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize("case", ["same", "inactive", "no_reason"])
def test_bad_merges_are_refused_and_change_nothing(doctor, admin_user, case):
    survivor, duplicate, third = _patient(doctor, "明"), _patient(doctor, "明"), _patient(doctor, "明")
    if case == "inactive":
        patient_merge(survivor=third, duplicate=duplicate, reason="Same person", performed_by=admin_user)
    merges_before = PatientMerge.objects.count()

    with pytest.raises(ValidationError):
        patient_merge(
            survivor=survivor,
            duplicate=survivor if case == "same" else Patient.objects.get(pk=duplicate.pk),
            reason="  " if case == "no_reason" else "Same person",
            performed_by=admin_user,
        )

    assert PatientMerge.objects.count() == merges_before
    assert Patient.objects.get(pk=survivor.pk).is_active


def test_a_merge_whose_survivor_was_merged_again_is_reversed_in_order(doctor, admin_user):
    first, second, third = _patient(doctor, "明"), _patient(doctor, "明"), _patient(doctor, "明")
    older = patient_merge(survivor=second, duplicate=first, reason="Same person", performed_by=admin_user)
    newer = patient_merge(survivor=third, duplicate=second, reason="Same person", performed_by=admin_user)
    assert set(patient_identity_ids(third)) == {first.pk, second.pk, third.pk}

    with pytest.raises(ValidationError):
        patient_merge_reverse(merge=older, reversed_by=admin_user)

    patient_merge_reverse(merge=newer, reversed_by=admin_user)
    patient_merge_reverse(merge=older, reversed_by=admin_user)
    assert Patient.objects.filter(is_active=True).count() == 3


def test_outside_a_merge_the_database_still_refuses_to_move_a_signed_note(doctor, admin_user):
    survivor, duplicate = _patient(doctor, "明"), _patient(doctor, "明")
    note_id = _record(duplicate, doctor)[ClinicalNote][0]

    with pytest.raises(DatabaseError), transaction.atomic():
        ClinicalNote.objects.filter(pk=note_id).update(patient=survivor)

    patient_merge(survivor=survivor, duplicate=duplicate, reason="Same person", performed_by=admin_user)
    assert ClinicalNote.objects.get(pk=note_id).patient_id == survivor.pk
