"""Who may see which patient: the one place the EMR's access rules live.

Two purposes of access:

- "clinical": the record's clinical content (notes, observations, conditions, orders, the chart). Only
  clinicians (doctors, nurses) and superusers, and only for the patients they treat:
    * the attending clinician or a care-team member of any of the patient's encounters (a cancelled
      encounter never happened, so it gives nothing; a finished one still does: the doctor who treated
      the patient may read the record of that care later);
    * staff with a current ward assignment (today within starts_on..ends_on) to the ward of the
      patient's in-progress inpatient encounter; the access ends with the encounter or the assignment;
    * an unexpired break-the-glass grant for this user and this patient (see emr.services.access).
- "metadata": who the patient is and when they were seen (demographics, MRN, encounter dates, class,
  status and ward), without clinical content. Records archivists see every patient's metadata;
  everybody else sees metadata exactly where they see clinical content.

Records archivists cannot break the glass: the glass opens clinical content, and clinical content is
what their role never reads. Other roles with emr.view_* permissions (pharmacists, bed managers,
finance officers, integration clients) get nothing here yet; their issues decide their scope.

Every check is one SQL query: the rules are EXISTS subqueries on the patient row, never a loop over
patients in Python. These functions do not write the access log: callers log what they read.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Final, Literal, TypedDict

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from emr.models import BreakGlassAccess, CareTeamMember, Encounter, Patient
from hospital.core import roles
from hospital.core.models import User
from scheduling.models import WardAssignment

if TYPE_CHECKING:
    # django-stubs-ext is a development dependency; the name is only needed by the type checker.
    from django_stubs_ext import WithAnnotations

PURPOSE_CLINICAL: Final = "clinical"
PURPOSE_METADATA: Final = "metadata"
Purpose = Literal["clinical", "metadata"]

CLINICAL_ROLES = (roles.DOCTOR, roles.NURSE)
# Roles that see every patient's record metadata (but no clinical content).
METADATA_ROLES = (roles.RECORDS_ARCHIVIST,)


class BreakGlassRequired(PermissionDenied):
    """A clinician asked for a patient they do not treat; the message says how to break the glass.

    `code` is what the API's error body carries, so a client can offer the break-the-glass form.
    """

    code = "break_glass_required"

    def __init__(self, patient: Patient):
        self.patient = patient
        super().__init__(
            _(
                "You are not on a care team of this patient and not assigned to the ward treating them. "
                "In an emergency you can break the glass: state your reason with POST "
                "/api/v1/emr/patients/%(id)s/break-glass/ (or on the chart page). The access is time-limited, "
                "logged and reviewed."
            )
            % {"id": patient.external_id}
        )


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_clinician(user) -> bool:
    """Whether the user holds a clinical role (doctor, nurse) or is a superuser."""
    return _active(user) and user.has_role(*CLINICAL_ROLES)


def sees_all_metadata(user) -> bool:
    """Whether the user sees every patient's record metadata (records archivists and superusers)."""
    return _active(user) and user.has_role(*METADATA_ROLES)


def _treats_q(user: User, *, via_break_glass: bool = True) -> Q:
    """The condition, on a Patient row, that `user` treats the patient (see the module docstring)."""
    now = timezone.now()
    today = timezone.localdate()
    patient = OuterRef("pk")
    attending = Encounter.objects.filter(patient=patient, attending=user).exclude(status=Encounter.Status.CANCELLED)
    care_team = CareTeamMember.objects.filter(encounter__patient=patient, user=user).exclude(
        encounter__status=Encounter.Status.CANCELLED
    )
    current_assignment = WardAssignment.objects.filter(ward=OuterRef("ward"), user=user, starts_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )
    on_ward = Encounter.objects.filter(
        patient=patient,
        encounter_class=Encounter.EncounterClass.INPATIENT,
        status=Encounter.Status.IN_PROGRESS,
        ward__isnull=False,
    ).filter(Exists(current_assignment))
    condition = Q(Exists(attending)) | Q(Exists(care_team)) | Q(Exists(on_ward))
    if via_break_glass:
        condition |= Q(Exists(BreakGlassAccess.objects.filter(patient=patient, user=user, expires_at__gt=now)))
    return condition


def patients_visible_to(user, purpose: Purpose = PURPOSE_CLINICAL) -> QuerySet[Patient]:
    """The patients `user` may see for `purpose` ("clinical" by default, or "metadata"), as one query.

    Clinical: the patients a clinician treats (care team, attending, ward, break the glass), all for a
    superuser, none for anyone else. Metadata: all patients for records archivists and superusers,
    otherwise the clinical set. Merged-away (inactive) patients are included; lists filter them.
    """
    if purpose not in (PURPOSE_CLINICAL, PURPOSE_METADATA):
        raise ValueError(f"unknown access purpose: {purpose!r}")
    if not _active(user):
        return Patient.objects.none()
    if user.is_superuser or (purpose == PURPOSE_METADATA and sees_all_metadata(user)):
        return Patient.objects.all()
    if not is_clinician(user):
        return Patient.objects.none()
    return Patient.objects.filter(_treats_q(user))


def user_can_read_clinical(user, patient: Patient) -> bool:
    """Whether `user` may read the clinical content of `patient` now (one query, none for non-clinicians)."""
    if not is_clinician(user):
        return False
    if user.is_superuser:
        return True
    return patients_visible_to(user).filter(pk=patient.pk).exists()


class _AccessAnnotations(TypedDict):
    treated_by_user: bool
    break_glass_open: bool


def _patient_with_access(*, user, external_id: uuid.UUID | str) -> WithAnnotations[Patient, _AccessAnnotations]:
    # One query answers both "does it exist" and "may the user read it"; treated_by_user is False when
    # only a break-the-glass grant opens the record, so callers can note that in what they log.
    treats = ExpressionWrapper(_treats_q(user, via_break_glass=False), output_field=BooleanField())
    glass = Exists(BreakGlassAccess.objects.filter(patient=OuterRef("pk"), user=user, expires_at__gt=timezone.now()))
    patient = (
        Patient.objects.filter(external_id=external_id).annotate(treated_by_user=treats, break_glass_open=glass).first()
    )
    if patient is None:
        raise Patient.DoesNotExist
    return patient


def patient_for_clinical_read(*, user, external_id: uuid.UUID | str) -> Patient:
    """The patient with this external id if `user` may read its clinical content.

    Raises PermissionDenied for users without a clinical role (before the lookup, so the answer does not
    say whether the patient exists; records archivists included), Patient.DoesNotExist for an unknown id,
    and BreakGlassRequired (a PermissionDenied whose message says how to break the glass) for a clinician
    who does not treat the patient. The returned patient carries `via_break_glass`: True when only a
    break-the-glass grant opened it. Writes nothing to the access log.
    """
    if not is_clinician(user):
        raise PermissionDenied(_("Your role does not give access to clinical records."))
    if user.is_superuser:
        patient = Patient.objects.get(external_id=external_id)
        patient.via_break_glass = False
        return patient
    patient = _patient_with_access(user=user, external_id=external_id)
    if not (patient.treated_by_user or patient.break_glass_open):
        raise BreakGlassRequired(patient)
    patient.via_break_glass = not patient.treated_by_user
    return patient


def patient_for_clinical_write(*, user, external_id: uuid.UUID | str) -> Patient:
    """The patient if `user` may write clinical content for it: the same scope as reading, clinical roles only.

    Whether the user's role may write a given kind of record (a nurse records vitals, a doctor signs
    notes) is the Django permission the API checks; this answers "for which patient".
    """
    return patient_for_clinical_read(user=user, external_id=external_id)


def patient_for_metadata_read(*, user, external_id: uuid.UUID | str) -> Patient:
    """The patient if `user` may see its record metadata (archivists: any patient; clinicians: as clinical).

    Raises PermissionDenied / Patient.DoesNotExist / BreakGlassRequired like `patient_for_clinical_read`.
    """
    if sees_all_metadata(user):
        patient = Patient.objects.get(external_id=external_id)
        patient.via_break_glass = False
        return patient
    return patient_for_clinical_read(user=user, external_id=external_id)


def break_glass_active(*, user, patient: Patient) -> BreakGlassAccess | None:
    """The user's unexpired break-the-glass grant for this patient that lasts longest, or None."""
    return (
        BreakGlassAccess.objects.filter(user=user, patient=patient, expires_at__gt=timezone.now())
        .order_by("-expires_at", "-id")
        .first()
    )


def break_glass_can_review(user) -> bool:
    """Whether `user` reviews break-the-glass grants (auditors, administrators, superusers)."""
    return _active(user) and user.has_role(roles.AUDITOR, roles.ADMINISTRATOR)


def break_glass_list(*, fetched_by, unreviewed: bool = False) -> QuerySet[BreakGlassAccess]:
    """Break-the-glass grants, newest first, for reviewers only (PermissionDenied otherwise).

    `unreviewed` keeps the grants no auditor has reviewed yet. User, patient and reviewer are joined in.
    """
    if not break_glass_can_review(fetched_by):
        raise PermissionDenied(_("Only auditors review break-the-glass access."))
    grants = BreakGlassAccess.objects.select_related("user", "patient", "reviewed_by").order_by("-created_at", "-id")
    if unreviewed:
        grants = grants.filter(reviewed_at__isnull=True)
    return grants
