"""patient_create, patient_bulk_import and patient_get: validation, MRNs and the access log."""

import re
import uuid
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from emr.models import Patient
from emr.selectors.patients import patient_get
from emr.services.encounters import encounter_start
from emr.services.patients import PatientData, patient_bulk_import, patient_create
from hospital.core.models import AccessLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk():
    return UserFactory(username="clerk", roles=["doctor"])


def _create(clerk, **overrides):
    values = {"family_name": "张", "given_name": "伟", "sex": "male", "birth_date": date(1970, 5, 4)}
    values.update(overrides)
    return patient_create(**values, created_by=clerk)


def test_create_assigns_distinct_sequential_mrns_and_logs_the_write(clerk):
    first = _create(clerk)
    second = _create(clerk, family_name="Smith", given_name="Anna", sex="female")

    assert re.fullmatch(r"MRN\d{8}", first.mrn)
    assert int(second.mrn[3:]) == int(first.mrn[3:]) + 1
    assert first.allergy_status == Patient.AllergyStatus.UNKNOWN
    entry = AccessLog.objects.get(object_id=str(first.external_id))
    assert (entry.action, entry.actor_id, entry.object_type) == ("create", clerk.pk, "emr.patient")
    assert entry.patient_external_id == first.external_id


def test_full_name_follows_the_name_convention(clerk):
    assert _create(clerk).full_name == "张伟"
    assert _create(clerk, family_name="Smith", given_name="Anna").full_name == "Anna Smith"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"birth_date": timezone.localdate() + timedelta(days=1)}, "birth_date"),
        ({"birth_date": date(1899, 12, 31)}, "birth_date"),
        ({"sex": "x"}, "sex"),
        ({"family_name": "   "}, "family_name"),
        ({"given_name": "x" * 101}, "given_name"),
    ],
)
def test_invalid_patient_is_refused_and_nothing_is_written(clerk, overrides, field):
    with pytest.raises(ValidationError) as excinfo:
        _create(clerk, **overrides)

    assert field in excinfo.value.message_dict
    assert not Patient.objects.exists()
    assert not AccessLog.objects.exists()


def test_bulk_import_writes_one_access_log_entry_for_all_patients():
    rows = [PatientData("Brown", f"Patient{i}", "female", date(1980, 1, i + 1)) for i in range(5)]

    created = patient_bulk_import(patients=rows, actor=None, purpose="migration from the old HIS")

    assert len({p.mrn for p in created}) == 5
    assert Patient.objects.count() == 5
    entry = AccessLog.objects.get()
    assert (entry.action, entry.actor_kind, entry.detail) == ("create", "system", {"patients": 5})


def test_bulk_import_with_one_invalid_row_writes_nothing():
    rows = [
        PatientData("Brown", "Ok", "female", date(1980, 1, 1)),
        PatientData("Brown", "Future", "female", timezone.localdate() + timedelta(days=3)),
    ]
    with pytest.raises(ValidationError):
        patient_bulk_import(patients=rows, actor=None, purpose="test")
    assert not Patient.objects.exists()
    assert not AccessLog.objects.exists()


def test_bulk_import_of_nothing_logs_nothing():
    assert patient_bulk_import(patients=[], actor=None, purpose="test") == []
    assert not AccessLog.objects.exists()


def test_patient_get_logs_the_read(clerk):
    patient = _create(clerk)
    reader = UserFactory(username="nurse1", roles=["nurse"])
    # Reads are scoped to the patients a clinician treats: the nurse attends an outpatient visit.
    encounter_start(patient=patient, encounter_class="outpatient", attending=reader, started_by=clerk)

    assert patient_get(external_id=patient.external_id, fetched_by=reader) == patient

    read = AccessLog.objects.get(action="read")
    assert (read.actor_id, read.patient_external_id) == (reader.pk, patient.external_id)


def test_patient_get_refuses_a_user_without_view_permission_before_looking_up(clerk):
    patient = _create(clerk)
    auditor = UserFactory(username="auditor1", roles=["auditor"])

    with pytest.raises(PermissionDenied):
        patient_get(external_id=patient.external_id, fetched_by=auditor)
    with pytest.raises(PermissionDenied):
        patient_get(external_id=uuid.uuid4(), fetched_by=auditor)
    assert not AccessLog.objects.filter(action="read").exists()


def test_patient_get_of_unknown_id_raises_does_not_exist(clerk):
    with pytest.raises(Patient.DoesNotExist):
        patient_get(external_id=uuid.uuid4(), fetched_by=clerk)
