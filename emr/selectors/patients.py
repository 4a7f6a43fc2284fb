"""Reads of the EMR app. Reading a patient's record is itself recorded in the access log."""

import uuid

from django.core.exceptions import PermissionDenied

from emr.models import Patient
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record


def patient_get(*, external_id: uuid.UUID, fetched_by: User) -> Patient:
    """The patient with this external id, as `fetched_by` may see it; the read is access-logged.

    Raises PermissionDenied when the user lacks emr.view_patient (checked before the lookup, so the
    answer does not reveal whether the patient exists) and Patient.DoesNotExist for an unknown id.
    Care-team scoping and break-the-glass arrive with encounters and care teams.
    """
    if not fetched_by.has_perm("emr.view_patient"):
        raise PermissionDenied
    patient = Patient.objects.get(external_id=external_id)
    access_log_record(
        actor=fetched_by,
        action="read",
        object_type="emr.patient",
        object_id=str(patient.external_id),
        patient_external_id=patient.external_id,
    )
    return patient
