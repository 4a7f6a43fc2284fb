"""Writes of the EMR app. Every write of patient data leaves an access-log entry."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from emr.models import Patient
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record

EARLIEST_BIRTH_DATE = date(1900, 1, 1)


@dataclass(frozen=True)
class PatientData:
    """One patient of a bulk import."""

    family_name: str
    given_name: str
    sex: str
    birth_date: date
    allergy_status: str = Patient.AllergyStatus.UNKNOWN


def _birth_date_validate(birth_date: date) -> None:
    # "Today" is the hospital's calendar day (TIME_ZONE), not UTC's.
    if birth_date > timezone.localdate():
        raise ValidationError({"birth_date": _("The birth date cannot be in the future.")})
    if birth_date < EARLIEST_BIRTH_DATE:
        raise ValidationError({"birth_date": _("The birth date cannot be before 1900.")})


def _patient_build(*, family_name: str, given_name: str, sex: str, birth_date: date, allergy_status: str) -> Patient:
    patient = Patient(
        family_name=family_name.strip(),
        given_name=given_name.strip(),
        sex=sex,
        birth_date=birth_date,
        allergy_status=allergy_status,
    )
    # full_clean first, so a wrong type is reported as a field error before the date comparison runs.
    # The MRN is left out: checking its uniqueness would evaluate its default and burn a sequence number.
    patient.full_clean(exclude=["mrn"])
    _birth_date_validate(patient.birth_date)
    return patient


@transaction.atomic
def patient_create(*, family_name: str, given_name: str, sex: str, birth_date: date, created_by: User) -> Patient:
    """Register a patient; the database assigns the MRN.

    Guarantees: the fields are valid (ValidationError with field errors otherwise), the birth date is not
    in the future, and the patient row and its "create" access-log entry are written together or not at all.
    The allergy status starts as "unknown (not asked)".
    """
    patient = _patient_build(
        family_name=family_name,
        given_name=given_name,
        sex=sex,
        birth_date=birth_date,
        allergy_status=Patient.AllergyStatus.UNKNOWN,
    )
    patient.save()
    access_log_record(
        actor=created_by,
        action="create",
        object_type="emr.patient",
        object_id=str(patient.external_id),
        patient_external_id=patient.external_id,
    )
    return patient


@transaction.atomic
def patient_bulk_import(*, patients: Sequence[PatientData], actor: User | None, purpose: str) -> list[Patient]:
    """Register many patients at once (data migration from another system, the demo hospital).

    Every patient is validated as in `patient_create`; if one is invalid nothing is written. A bulk import
    is one action, so it writes ONE "create" access-log entry with detail {"patients": n}, not one per row;
    `actor` None means the system itself. Importing an empty list writes nothing and logs nothing.
    """
    built = [
        _patient_build(
            family_name=row.family_name,
            given_name=row.given_name,
            sex=row.sex,
            birth_date=row.birth_date,
            allergy_status=row.allergy_status,
        )
        for row in patients
    ]
    if not built:
        return []
    created = Patient.objects.bulk_create(built, batch_size=500)
    access_log_record(
        actor=actor,
        action="create",
        object_type="emr.patient",
        purpose=purpose,
        detail={"patients": len(created)},
    )
    return created
