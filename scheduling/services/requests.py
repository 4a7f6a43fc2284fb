"""Bed requests: a patient waiting for a bed joins the queue; the bed manager assigns a bed, or cancels.

Assigning admits the patient through the ADT service (scheduling.services.adt.bed_stay_admit), so the
bed stay's exclusion constraint decides races: of two managers clicking "Assign" on one bed, one wins
and the other gets a BedConflict (HTTP 409). The request row is locked first, so one request is never
assigned twice either.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from emr.models import Encounter, Patient
from emr.selectors.access import is_clinician
from emr.services.encounters import encounter_start
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record
from scheduling.models import Bed, BedRequest, BedStay
from scheduling.selectors.requests import placement_violations
from scheduling.services.adt import bed_stay_admit

# The fields a waiting request may change (who the patient is and where they come from stay fixed).
UPDATABLE_FIELDS = ("priority", "specialty", "needs_isolation", "nursing_level", "needed_from", "note")


class RequestNotWaiting(ValidationError):
    """The request was assigned or cancelled meanwhile (someone else acted first): the API answers 409."""

    def __init__(self, request: BedRequest):
        super().__init__(
            {
                "request": ValidationError(
                    _("This bed request is no longer waiting (it is %(status)s).")
                    % {"status": request.get_status_display()},
                    code="request_not_waiting",
                )
            }
        )


def _request_log(*, actor: User, action: str, request: BedRequest, detail: dict) -> None:
    access_log_record(
        actor=actor,
        action=action,
        object_type="scheduling.bedrequest",
        object_id=str(request.external_id),
        patient_external_id=request.patient.external_id,
        detail=detail,
    )


def _locked_waiting(request: BedRequest) -> BedRequest:
    locked = (
        BedRequest.objects.select_for_update(of=("self",)).select_related("patient", "encounter").get(pk=request.pk)
    )
    if locked.status != BedRequest.Status.WAITING:
        raise RequestNotWaiting(locked)
    return locked


def _check_priority(priority) -> dict[str, str]:
    if not isinstance(priority, int) or not 1 <= priority <= 5:
        return {"priority": _("Give a priority from 1 (most urgent) to 5 (routine).")}
    return {}


def _check_encounter(patient: Patient, encounter: Encounter | None) -> dict[str, str]:
    if encounter is None:
        return {}
    if encounter.patient_id != patient.pk:
        return {"encounter": _("This encounter belongs to another patient.")}
    if encounter.status not in (Encounter.Status.PLANNED, Encounter.Status.IN_PROGRESS):
        return {"encounter": _("A bed can only be requested for a planned or ongoing encounter.")}
    return {}


@transaction.atomic
def bed_request_create(
    *,
    patient: Patient,
    source: str,
    priority: int,
    specialty: str,
    needs_isolation: bool,
    nursing_level: str,
    needed_from: datetime | None = None,
    encounter: Encounter | None = None,
    note: str = "",
    requested_by: User,
) -> BedRequest:
    """Put `patient` in the bed queue with what the bed must offer (specialty, isolation, nursing level).

    Guarantees: valid choices and a priority of 1 (most urgent) to 5; an active (not merged-away) patient;
    the encounter, if given, is the patient's and planned or in progress; at most one waiting request per
    patient (also under concurrent calls: the partial unique constraint). ValidationError with field
    errors otherwise, and nothing is written. Access-logged as a "create".
    """
    errors = {**_check_encounter(patient, encounter), **_check_priority(priority)}
    if not patient.is_active:
        errors["patient"] = _("This patient record was merged into another; use the surviving record.")
    bed_request = BedRequest(
        patient=patient,
        encounter=encounter,
        source=source,
        priority=priority,
        specialty=specialty,
        needs_isolation=bool(needs_isolation),
        nursing_level=nursing_level,
        needed_from=needed_from or timezone.now(),
        note=(note or "").strip(),
        requested_by=requested_by,
    )
    try:
        bed_request.full_clean(exclude=["created_at", "updated_at", "assigned_stay"], validate_constraints=False)
    except ValidationError as exc:
        errors = {**{k: v[0] for k, v in exc.message_dict.items()}, **errors}
    if not errors and BedRequest.objects.filter(patient=patient, status=BedRequest.Status.WAITING).exists():
        errors["patient"] = _("This patient is already waiting for a bed.")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            bed_request.save()
    except IntegrityError as exc:  # the same patient queued by two people at once
        raise ValidationError({"patient": _("This patient is already waiting for a bed.")}) from exc
    _request_log(
        actor=requested_by,
        action="create",
        request=bed_request,
        detail={"source": source, "priority": bed_request.priority, "specialty": specialty},
    )
    return bed_request


@transaction.atomic
def bed_request_update(*, request: BedRequest, updated_by: User, **changes) -> BedRequest:
    """Change what a waiting request needs or its priority (only the fields in UPDATABLE_FIELDS).

    Guarantees: only a waiting request changes (RequestNotWaiting otherwise, checked under a row lock);
    the new values are valid (ValidationError with field errors, nothing written). Access-logged as a "write".
    """
    unknown = sorted(set(changes) - set(UPDATABLE_FIELDS))
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    if "priority" in changes and _check_priority(changes["priority"]):
        raise ValidationError(_check_priority(changes["priority"]))
    locked = _locked_waiting(request)
    for name, value in changes.items():
        if name == "note":
            value = (value or "").strip()
        setattr(locked, name, value)
    locked.full_clean(exclude=["created_at", "updated_at", "assigned_stay"], validate_constraints=False)
    locked.save(update_fields=[*changes, "updated_at"])
    _request_log(actor=updated_by, action="write", request=locked, detail={"fields": sorted(changes)})
    return locked


@transaction.atomic
def bed_request_cancel(*, request: BedRequest, cancelled_by: User, reason: str = "") -> BedRequest:
    """Take a waiting request off the queue (the patient went elsewhere, or no longer needs a bed).

    Guarantees: only a waiting request is cancelled (RequestNotWaiting otherwise, under a row lock, so a
    request being assigned at the same moment is either assigned or cancelled, never both). The reason,
    if given, is appended to the note. Access-logged as a "write".
    """
    locked = _locked_waiting(request)
    locked.status = BedRequest.Status.CANCELLED
    reason = (reason or "").strip()
    if reason:
        locked.note = (f"{locked.note} · {reason}" if locked.note else reason)[:300]
    locked.save(update_fields=["status", "note", "updated_at"])
    _request_log(actor=cancelled_by, action="write", request=locked, detail={"status": locked.status})
    return locked


def _inpatient_encounter(bed_request: BedRequest, bed: Bed, assigned_by: User) -> Encounter:
    """The in-progress inpatient encounter to admit, started now for the bed's ward when there is none.

    A request from the emergency department or a clinic usually carries that (non-inpatient) encounter;
    the admission is a new inpatient encounter, attended by the same clinician when there is one.
    """
    encounter = bed_request.encounter
    if (
        encounter is not None
        and encounter.encounter_class == Encounter.EncounterClass.INPATIENT
        and encounter.status == Encounter.Status.IN_PROGRESS
    ):
        return encounter
    candidates = [encounter.attending if encounter is not None else None, bed_request.requested_by, assigned_by]
    attending = next((user for user in candidates if user is not None and is_clinician(user)), None)
    if attending is None:
        raise ValidationError(
            {
                "encounter": _(
                    "This request has no inpatient encounter and no clinician to attend one; "
                    "start the inpatient encounter first."
                )
            }
        )
    return encounter_start(
        patient=bed_request.patient,
        encounter_class=Encounter.EncounterClass.INPATIENT,
        attending=attending,
        started_by=assigned_by,
        ward=bed.ward,
        reason=bed_request.note,
    )


@transaction.atomic
def bed_request_assign(*, request: BedRequest, bed: Bed, assigned_by: User, expected_discharge_on=None) -> BedStay:
    """Admit the waiting request's patient to `bed` and mark the request assigned; returns the new bed stay.

    Guarantees: the request is waiting (RequestNotWaiting otherwise, under a row lock, so a double click
    assigns once); the bed satisfies the request's hard needs (sex policy, isolation, nursing level, ICU
    use: ValidationError on "bed" with the reasons); when the request has no in-progress inpatient
    encounter one is started for the bed's ward in the same transaction. The admission itself is
    bed_stay_admit's: a blocked, cleaning or occupied bed is a ValidationError, a concurrent admission to
    the same bed a BedConflict. On any error nothing is written, the encounter included.
    """
    locked = _locked_waiting(request)
    bed = Bed.objects.select_related("ward", "room").get(pk=bed.pk)
    violations = placement_violations(request=locked, bed=bed)
    if violations:
        raise ValidationError({"bed": [ValidationError(text, code="placement") for text in violations]})
    encounter = _inpatient_encounter(locked, bed, assigned_by)
    stay = bed_stay_admit(
        encounter=encounter,
        bed=bed,
        admitted_by=assigned_by,
        expected_discharge_on=expected_discharge_on,
        request=locked,
    )
    # bed_stay_admit may already have linked the request; the row lock makes re-reading it safe.
    locked.refresh_from_db(fields=["status", "assigned_stay"])
    if locked.status != BedRequest.Status.ASSIGNED or locked.assigned_stay_id != stay.pk:
        locked.status = BedRequest.Status.ASSIGNED
        locked.assigned_stay = stay
        locked.save(update_fields=["status", "assigned_stay", "updated_at"])
    _request_log(
        actor=assigned_by,
        action="write",
        request=locked,
        detail={"status": locked.status, "bed": str(bed.external_id), "encounter": str(encounter.external_id)},
    )
    return stay
