"""Reads of encounters, scoped through emr.selectors.access."""

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Prefetch, QuerySet, Value

from emr.models import CareTeamMember, Encounter, Patient
from emr.selectors.access import (
    BreakGlassRequired,
    is_clinician,
    sees_all_metadata,
    user_can_read_clinical,
)
from hospital.core.models import User

# What a metadata reader (records archivist) gets of an encounter: when, what kind, where; never why.
ENCOUNTER_METADATA_FIELDS = (
    "id", "external_id", "patient", "encounter_class", "status", "started_at", "ended_at", "ward",
)  # fmt: skip


def encounter_list(*, patient: Patient, fetched_by: User) -> QuerySet[Encounter]:
    """The patient's encounters, newest first, as `fetched_by` may see them. Writes nothing to the access log.

    Clinical readers (see emr.selectors.access) get full rows with attending, ward and care team (users
    joined in, so serialising the list costs a fixed number of queries). Records archivists get the
    metadata only: the reason for the visit, the attending and the care team are not loaded, and every
    row is annotated `clinical_access=False` (True for clinical readers) so serialisers leave them out.
    Raises PermissionDenied (BreakGlassRequired for a clinician who does not treat the patient).
    """
    if is_clinician(fetched_by):
        if not user_can_read_clinical(fetched_by, patient):
            raise BreakGlassRequired(patient)
        return (
            Encounter.objects.filter(patient=patient)
            .select_related("attending", "ward")
            .prefetch_related(
                Prefetch("care_team", queryset=CareTeamMember.objects.select_related("user").order_by("id"))
            )
            .annotate(clinical_access=Value(True, output_field=BooleanField()))
            .order_by("-started_at", "-id")
        )
    if sees_all_metadata(fetched_by):
        return (
            Encounter.objects.filter(patient=patient)
            .select_related("ward")
            .only(*ENCOUNTER_METADATA_FIELDS, "ward__external_id", "ward__code", "ward__name_en", "ward__name_zh")
            .annotate(clinical_access=Value(False, output_field=BooleanField()))
            .order_by("-started_at", "-id")
        )
    raise PermissionDenied


def encounter_get_for_clinical_read(*, external_id, fetched_by: User) -> Encounter:
    """One encounter if `fetched_by` may read its patient's clinical content (Encounter.DoesNotExist if unknown).

    Raises PermissionDenied / BreakGlassRequired like emr.selectors.access.patient_for_clinical_read.
    """
    if not is_clinician(fetched_by):
        raise PermissionDenied
    encounter = (
        Encounter.objects.select_related("patient", "attending", "ward")
        .prefetch_related(Prefetch("care_team", queryset=CareTeamMember.objects.select_related("user").order_by("id")))
        .get(external_id=external_id)
    )
    if not user_can_read_clinical(fetched_by, encounter.patient):
        raise BreakGlassRequired(encounter.patient)
    return encounter
