"""Admit, transfer and discharge (ADT), housekeeping and bed blocks: every write that changes a bed's state.

Occupancy has one source of truth, the bed stay (scheduling.models.BedStay); nothing here stores a bed's
state anywhere else. Each service locks its rows in the fixed order of scheduling.lock_objects (the
encounter, then beds by id), checks the state it is about to change under those locks, and keeps the
database's exclusion constraints as the last line of defence: an overlap that still reaches the database
becomes a BedConflict, never a 500.

Decisions:
- A bed stay and the encounter are separate things. Discharge from a bed ends the stay and sends the bed
  to housekeeping; it does not finish the encounter, which its clinician finishes
  (emr.services.encounters.encounter_finish) once the discharge summary is written.
- The encounter's ward follows its bed: an admission or transfer to a bed of another ward moves the
  encounter to that ward, because the ward's staff are the ones who then care for the patient and the
  EMR opens the record to them through `encounter.ward`.
- A bed left by a transfer needs cleaning just like one left by a discharge.
- Occupied (another stay) is a conflict (BedConflict, HTTP 409); a blocked, cleaning or inactive bed is
  bad input for the request (ValidationError, HTTP 400): nothing raced, the bed was simply not available.
- Stay writes are patient data and access-logged; blocks and cleaning are about beds, not patients, and
  keep who did them on their own rows (created_by, completed_by).
"""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone
from django.utils.translation import gettext as _

from emr.models import Encounter
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record
from scheduling.lock_objects import bed_lock, beds_lock, encounter_lock
from scheduling.models import AdtEvent, Bed, BedBlock, BedCleaning, BedStay

# Clocks of ward PCs drift; a time this far ahead of the server is still "now".
CLOCK_SKEW_SECONDS = 120

DISCHARGE_REASONS = (BedStay.EndReason.DISCHARGE, BedStay.EndReason.DEATH, BedStay.EndReason.ENTERED_IN_ERROR)


class BedConflict(ValidationError):
    """The bed (or the encounter) already has a stay at that time: someone else got there first.

    A ValidationError subclass so that services calling services treat it as bad input; the API answers
    409 with code "bed_conflict".
    """

    def __init__(self, message: str | None = None):
        super().__init__(
            message or _("This bed is already occupied at that time. Refresh the bed board and choose another bed."),
            code="bed_conflict",
        )


def _now_or(at: datetime | None, field: str = "at") -> datetime:
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        raise ValidationError({field: _("Give the time with its time zone.")})
    if (at - now).total_seconds() > CLOCK_SKEW_SECONDS:
        raise ValidationError({field: _("This time cannot be in the future.")})
    return at


def _now_if_unset(at_given: datetime | None, at: datetime) -> datetime:
    # "Now" is taken again once the rows are locked: a request that waited for another one's lock
    # (a transfer racing a discharge) must not act at a time before the change it waited for.
    return at if at_given is not None else timezone.now()


def _open_stay(encounter: Encounter) -> BedStay | None:
    # The encounter's stay without an end; the exclusion constraint allows at most one.
    return (
        BedStay.objects.select_related("bed__ward")
        .filter(encounter=encounter, period__endswith__isnull=True)
        .order_by("-id")
        .first()
    )


def _check_bed_available(*, bed: Bed, at: datetime, field: str) -> None:
    """Refuse an inactive, blocked, cleaning or occupied bed (the caller holds the bed's lock)."""
    if not bed.is_active:
        raise ValidationError({field: ValidationError(_("This bed is closed (inactive)."), code="bed_inactive")})
    block = BedBlock.objects.filter(bed=bed, period__contains=at).first()
    if block is not None:
        raise ValidationError(
            {
                field: ValidationError(
                    _("This bed is blocked: %(reason)s") % {"reason": block.reason}, code="bed_blocked"
                )
            }
        )
    if BedCleaning.objects.filter(bed=bed, completed_at__isnull=True, requested_at__lte=at).exists():
        raise ValidationError(
            {field: ValidationError(_("This bed is waiting for housekeeping to clean it."), code="bed_cleaning")}
        )
    # Any stay from `at` on: a later (back-dated or future) stay would overlap an open-ended one too.
    if BedStay.objects.filter(bed=bed, period__overlap=DateTimeTZRange(at, None)).exists():
        raise BedConflict()


def _check_encounter_admittable(encounter: Encounter, at: datetime) -> None:
    if encounter.encounter_class != Encounter.EncounterClass.INPATIENT:
        raise ValidationError({"encounter": _("Only an inpatient encounter can be given a bed.")})
    if encounter.status != Encounter.Status.IN_PROGRESS:
        raise ValidationError(
            {"encounter": _("Only an encounter in progress can be given a bed; this one is %(status)s.")
             % {"status": encounter.get_status_display()}}
        )  # fmt: skip
    if at < encounter.started_at:
        raise ValidationError({"at": _("A patient cannot lie in a bed before their encounter started.")})


def _save_stay(stay: BedStay) -> BedStay:
    # The exclusion constraints are the last line of defence against an overlap the checks did not see
    # (e.g. a stay written outside these services); the savepoint keeps the caller's transaction usable.
    try:
        with transaction.atomic():
            stay.save()
    except IntegrityError as exc:
        raise BedConflict() from exc
    return stay


def _follow_ward(encounter: Encounter, bed: Bed) -> None:
    if encounter.ward_id != bed.ward_id:
        encounter.ward = bed.ward
        encounter.save(update_fields=["ward", "updated_at"])


def _cleaning_open(*, bed: Bed, stay: BedStay | None, at: datetime) -> BedCleaning | None:
    if BedCleaning.objects.filter(bed=bed, completed_at__isnull=True).exists():
        return None
    return BedCleaning.objects.create(bed=bed, stay=stay, requested_at=at)


def _stay_log(*, actor: User, action: str, stay: BedStay, encounter: Encounter, detail: dict) -> None:
    access_log_record(
        actor=actor,
        action=action,
        object_type="scheduling.bedstay",
        object_id=str(stay.external_id),
        patient_external_id=encounter.patient.external_id,
        detail=detail,
    )


@transaction.atomic
def bed_stay_admit(
    *,
    encounter: Encounter,
    bed: Bed,
    admitted_by: User,
    at: datetime | None = None,
    expected_discharge_on: date | None = None,
    request=None,
) -> BedStay:
    """Put the patient of an in-progress inpatient encounter into a bed from `at` (default now).

    Guarantees: the encounter is inpatient and in progress and not already in a bed; the bed is active,
    not blocked, not waiting for cleaning, and has no stay from `at` on; `at` is not before the encounter
    started nor in the future; the expected discharge is not before the admission day. ValidationError
    with field errors otherwise; a bed taken by someone else (also by a concurrent admission) raises
    BedConflict. Nothing is written on any error. On success: the stay, an "admit" AdtEvent, the
    encounter's ward set to the bed's ward, and a "create" access-log entry, in one transaction.
    `request` (a BedRequest) is accepted for callers that place a waiting request; they mark it assigned.
    """
    at_given = at
    at = _now_or(at)
    encounter = encounter_lock(encounter_id=encounter.pk)
    at = _now_if_unset(at_given, at)
    bed = bed_lock(bed_id=bed.pk)
    _check_encounter_admittable(encounter, at)
    if _open_stay(encounter) is not None:
        raise ValidationError(
            {"encounter": ValidationError(_("This patient already lies in a bed; transfer them instead."),
                                          code="already_admitted")}
        )  # fmt: skip
    if expected_discharge_on is not None and expected_discharge_on < timezone.localdate(at):
        raise ValidationError({"expected_discharge_on": _("The expected discharge cannot be before the admission.")})
    _check_bed_available(bed=bed, at=at, field="bed")

    stay = _save_stay(
        BedStay(
            bed=bed,
            encounter=encounter,
            period=DateTimeTZRange(at, None),
            expected_discharge_on=expected_discharge_on,
            started_by=admitted_by,
        )
    )
    _follow_ward(encounter, bed)
    AdtEvent.objects.create(
        event_type=AdtEvent.EventType.ADMIT,
        encounter=encounter,
        patient=encounter.patient,
        to_bed=bed,
        occurred_at=at,
        recorded_by=admitted_by,
    )
    detail = {"event": "admit", "bed": str(bed), "at": at.isoformat()}
    if request is not None:
        detail["bed_request"] = str(request.external_id)
    _stay_log(actor=admitted_by, action="create", stay=stay, encounter=encounter, detail=detail)
    return stay


@transaction.atomic
def bed_stay_transfer(
    *, encounter: Encounter, to_bed: Bed, transferred_by: User, at: datetime | None = None
) -> BedStay:
    """Move the encounter's patient from their current bed to `to_bed` at `at` (default now); returns the new stay.

    Guarantees: the encounter lies in a bed; `to_bed` is another bed that is active, not blocked, not
    cleaning and free from `at` on; `at` is after the current stay began and not in the future. The
    current stay ends at `at` (reason "transfer") and the new one starts at `at` with the same expected
    discharge, so the encounter always has exactly one open stay; the bed left behind goes to housekeeping.
    A "transfer" AdtEvent and a "write" access-log entry are written in the same transaction.
    ValidationError / BedConflict otherwise, and nothing is written.
    """
    at_given = at
    at = _now_or(at)
    encounter = encounter_lock(encounter_id=encounter.pk)
    at = _now_if_unset(at_given, at)
    current = _open_stay(encounter)
    if current is None:
        raise ValidationError({"encounter": _("This patient is not in a bed; admit them first.")})
    if current.bed_id == to_bed.pk:
        raise ValidationError({"bed": ValidationError(_("The patient already lies in this bed."), code="same_bed")})
    beds = beds_lock(bed_ids=[current.bed_id, to_bed.pk])
    from_bed, to_bed = beds[current.bed_id], beds[to_bed.pk]
    if at <= current.period.lower:
        raise ValidationError({"at": _("A transfer must come after the patient arrived in their current bed.")})
    _check_bed_available(bed=to_bed, at=at, field="bed")

    current.period = DateTimeTZRange(current.period.lower, at)
    current.end_reason = BedStay.EndReason.TRANSFER
    current.ended_by = transferred_by
    current.save(update_fields=["period", "end_reason", "ended_by", "updated_at"])
    stay = _save_stay(
        BedStay(
            bed=to_bed,
            encounter=encounter,
            period=DateTimeTZRange(at, None),
            expected_discharge_on=current.expected_discharge_on,
            started_by=transferred_by,
        )
    )
    _cleaning_open(bed=from_bed, stay=current, at=at)
    _follow_ward(encounter, to_bed)
    AdtEvent.objects.create(
        event_type=AdtEvent.EventType.TRANSFER,
        encounter=encounter,
        patient=encounter.patient,
        from_bed=from_bed,
        to_bed=to_bed,
        occurred_at=at,
        recorded_by=transferred_by,
    )
    _stay_log(
        actor=transferred_by,
        action="write",
        stay=stay,
        encounter=encounter,
        detail={"event": "transfer", "from_bed": str(from_bed), "bed": str(to_bed), "at": at.isoformat()},
    )
    return stay


@transaction.atomic
def bed_stay_discharge(
    *, encounter: Encounter, discharged_by: User, at: datetime | None = None, reason: str = "discharge"
) -> BedStay:
    """End the encounter's open bed stay at `at` (default now) and send the bed to housekeeping.

    Guarantees: the encounter lies in a bed; `at` is after the stay began (a discharge before the
    admission is refused) and not in the future; `reason` is discharge, death or entered_in_error. The
    bed turns "cleaning" (an open BedCleaning) until bed_cleaning_complete. A "discharge" AdtEvent and a
    "write" access-log entry are written in the same transaction. The encounter itself stays as it is
    (see the module's decisions). ValidationError otherwise, and nothing is written.
    """
    at_given = at
    at = _now_or(at)
    if reason not in DISCHARGE_REASONS:
        raise ValidationError({"reason": _("Choose discharge, death or entered in error.")})
    encounter = encounter_lock(encounter_id=encounter.pk)
    at = _now_if_unset(at_given, at)
    stay = _open_stay(encounter)
    if stay is None:
        raise ValidationError({"encounter": _("This patient is not in a bed.")})
    bed = bed_lock(bed_id=stay.bed_id)
    if at <= stay.period.lower:
        raise ValidationError({"at": _("A discharge cannot be before the admission to the bed.")})

    stay.period = DateTimeTZRange(stay.period.lower, at)
    stay.end_reason = reason
    stay.ended_by = discharged_by
    stay.save(update_fields=["period", "end_reason", "ended_by", "updated_at"])
    _cleaning_open(bed=bed, stay=stay, at=at)
    AdtEvent.objects.create(
        event_type=AdtEvent.EventType.DISCHARGE,
        encounter=encounter,
        patient=encounter.patient,
        from_bed=bed,
        occurred_at=at,
        recorded_by=discharged_by,
    )
    _stay_log(
        actor=discharged_by,
        action="write",
        stay=stay,
        encounter=encounter,
        detail={"event": "discharge", "bed": str(bed), "reason": reason, "at": at.isoformat()},
    )
    return stay


@transaction.atomic
def bed_cleaning_complete(*, bed: Bed, completed_by: User, at: datetime | None = None) -> BedCleaning:
    """Housekeeping has cleaned the bed: close its open cleaning at `at` (default now); the bed is free again.

    Guarantees: the bed has an open cleaning (ValidationError otherwise) and `at` is not before it was
    requested nor in the future.
    """
    at = _now_or(at)
    bed = bed_lock(bed_id=bed.pk)
    cleaning = BedCleaning.objects.filter(bed=bed, completed_at__isnull=True).first()
    if cleaning is None:
        raise ValidationError({"bed": ValidationError(_("This bed is not waiting for cleaning."), code="not_cleaning")})
    if at < cleaning.requested_at:
        raise ValidationError({"at": _("Cleaning cannot finish before it was requested.")})
    cleaning.completed_at = at
    cleaning.completed_by = completed_by
    cleaning.save(update_fields=["completed_at", "completed_by", "updated_at"])
    return cleaning


@transaction.atomic
def bed_cleaning_request(*, bed: Bed, requested_by: User, at: datetime | None = None) -> BedCleaning:
    """Send a bed to housekeeping without a discharge (spillage, a patient moved by hand). Idempotent:
    a bed already waiting keeps its cleaning. Guarantees: the bed is not occupied at `at`."""
    at = _now_or(at)
    bed = bed_lock(bed_id=bed.pk)
    open_cleaning = BedCleaning.objects.filter(bed=bed, completed_at__isnull=True).first()
    if open_cleaning is not None:
        return open_cleaning
    if BedStay.objects.filter(bed=bed, period__contains=at).exists():
        raise ValidationError({"bed": _("A patient lies in this bed; it is cleaned after they leave.")})
    return BedCleaning.objects.create(bed=bed, requested_at=at)


@transaction.atomic
def bed_block(
    *, bed: Bed, reason: str, blocked_by: User, start: datetime | None = None, end: datetime | None = None
) -> BedBlock:
    """Take a bed out of use from `start` (default now) until `end` (open-ended when None), with a reason.

    Guarantees: a reason is given; `end` is after `start`; `start` is not in the past (a block is
    planned or starts now); no patient lies in the bed at `start`; blocks of one bed never overlap
    (checked, and kept by the exclusion constraint). ValidationError with field errors otherwise.
    """
    now = timezone.now()
    start = start or now
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if not reason:
        errors["reason"] = _("Say why the bed is blocked.")
    if (now - start).total_seconds() > CLOCK_SKEW_SECONDS:
        errors["start"] = _("A block cannot start in the past.")
    if end is not None and end <= start:
        errors["end"] = _("A block must end after it starts.")
    if errors:
        raise ValidationError(errors)
    bed = bed_lock(bed_id=bed.pk)
    if BedStay.objects.filter(bed=bed, period__contains=start).exists():
        raise ValidationError({"bed": _("A patient lies in this bed; move or discharge them first.")})
    period = DateTimeTZRange(start, end)
    if BedBlock.objects.filter(bed=bed, period__overlap=period).exists():
        raise ValidationError({"bed": _("This bed is already blocked for part of that time.")})
    block = BedBlock(bed=bed, period=period, reason=reason, created_by=blocked_by)
    block.full_clean(exclude=["created_at", "updated_at", "period"])
    try:
        with transaction.atomic():
            block.save()
    except IntegrityError as exc:
        raise ValidationError({"bed": _("This bed is already blocked for part of that time.")}) from exc
    return block


@transaction.atomic
def bed_unblock(*, bed: Bed, unblocked_by: User, at: datetime | None = None) -> BedBlock:
    """Return a blocked bed to use at `at` (default now): the block in force then ends there.

    A block that has not started yet is cancelled instead (deleted: it never took effect). Guarantees:
    the bed has a block in force at `at` or a planned one (ValidationError otherwise). `unblocked_by` is
    the user who asked; blocks keep who created them, and the end of the period records when it ended.
    """
    at = _now_or(at)
    bed = bed_lock(bed_id=bed.pk)
    block = BedBlock.objects.filter(bed=bed, period__contains=at).first()
    if block is None:
        block = BedBlock.objects.filter(bed=bed, period__startswith__gt=at).order_by("period").first()
        if block is None:
            raise ValidationError({"bed": ValidationError(_("This bed is not blocked."), code="not_blocked")})
        block.delete()
        return block
    if at <= block.period.lower:
        block.delete()
        return block
    block.period = DateTimeTZRange(block.period.lower, at)
    block.save(update_fields=["period", "updated_at"])
    return block
