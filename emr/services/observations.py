"""Writes of observations: sets of vital signs and laboratory results, validated before anything is saved.

Who may record for which patient is checked by the caller (emr.selectors.access and the API's
permissions); these services guarantee that what is written is physiologically possible, complete
and logged.
"""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from emr.lab_limits import critical_limit
from emr.models import VITAL_LIMITS, ClinicalNote, Encounter, Observation, Patient, VitalSign
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record

# Clocks of devices and workstations drift; a reading a few minutes "in the future" is not an error.
CLOCK_SKEW = timedelta(minutes=5)
AVPU = ("A", "C", "V", "P", "U")
UNIT_LABELS = {"/min": "/min", "%": "%", "Cel": "°C", "mm[Hg]": "mmHg"}
Flag = Observation.Flag
DECIMAL_PLACES = Decimal("0.0001")
DECIMAL_EXPONENT = -4  # that of DECIMAL_PLACES
# Alerts (NEWS2, critical laboratory values) are evaluated by the ai app's tasks, named here because the EMR
# never imports ai; they run on the latency-sensitive "alerts" queue once the rows are committed.
NEWS2_TASK = "ai.tasks.news2_evaluate_task"
CRITICAL_LAB_TASK = "ai.tasks.critical_lab_evaluate_task"
# Conflicting readings of two sources, and sustained drift of the patient's vital signs, checked after NEWS2.
CONFLICT_TASK = "ai.tasks.conflict_check_task"
LAB_CONFLICT_TASK = "ai.tasks.lab_conflict_check_task"
DRIFT_TASK = "ai.tasks.drift_evaluate_task"
ALERTS_QUEUE = "alerts"


def _decimal(value, field_name: str, errors: dict[str, list[str]]) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors.setdefault(field_name, []).append(_("Enter a number."))
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        errors.setdefault(field_name, []).append(_("Enter a number."))
        return None
    if not number.is_finite():
        errors.setdefault(field_name, []).append(_("Enter a number."))
        return None
    # More precision than a measurement has is rounded away rather than refused.
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < DECIMAL_EXPONENT:
        return number.quantize(DECIMAL_PLACES)
    return number


def _enqueue_on_commit(task_name: str, argument: str | int) -> None:
    # robust: the rows are committed by then; a broker that is down must not turn the write into an error.
    transaction.on_commit(lambda: current_app.send_task(task_name, args=[argument], queue=ALERTS_QUEUE), robust=True)


def _not_in_future(moment: datetime, field_name: str, errors: dict[str, list[str]]) -> None:
    if timezone.is_naive(moment):
        errors.setdefault(field_name, []).append(_("Give the time with its time zone."))
    elif moment > timezone.now() + CLOCK_SKEW:
        errors.setdefault(field_name, []).append(_("The time cannot be in the future."))


def _context_check(
    *, patient: Patient, encounter: Encounter | None, note: ClinicalNote | None, errors: dict[str, list[str]]
) -> Encounter | None:
    if note is not None:
        if note.patient_id != patient.pk:
            errors.setdefault("note", []).append(_("The note belongs to another patient."))
        elif note.status != ClinicalNote.Status.DRAFT:
            errors.setdefault("note", []).append(_("Vital signs can only be added to a draft note."))
        if encounter is None:
            encounter = note.encounter
        elif note.encounter_id != encounter.pk:
            errors.setdefault("note", []).append(_("The note belongs to another encounter."))
    if encounter is not None and encounter.patient_id != patient.pk:
        errors.setdefault("encounter", []).append(_("The encounter belongs to another patient."))
    return encounter


@transaction.atomic
def vital_signs_record(
    *,
    patient: Patient,
    recorded_by: User,
    encounter: Encounter | None = None,
    note: ClinicalNote | None = None,
    taken_at: datetime | None = None,
    heart_rate=None,
    respiratory_rate=None,
    spo2=None,
    temperature=None,
    systolic_bp=None,
    diastolic_bp=None,
    consciousness: str | None = None,
    supplemental_oxygen: bool | None = None,
    source: str = Observation.Source.MANUAL,
) -> list[Observation]:
    """Record one set of vital signs taken together (one Observation per value given, sharing a `set_id`).

    Guarantees: at least one value is given; every number lies in its physiological range
    (emr.models.VITAL_LIMITS; temperature in degrees Celsius), the systolic pressure exceeds the
    diastolic, consciousness is an ACVPU letter; otherwise ValidationError with one message per field
    (e.g. {"spo2": ["SpO2 must be between 40 and 100 %."]}) and nothing is written. A note, if given,
    must be a draft of the same patient (its encounter is used when none is given). Supplemental oxygen
    is stored as 1/0 with the text "yes"/"no". One "create" access-log entry for the set. Once committed, the
    set's NEWS2 evaluation, conflict check and drift check are enqueued on the "alerts" queue.
    """
    errors: dict[str, list[str]] = {}
    taken_at = taken_at or timezone.now()
    _not_in_future(taken_at, "taken_at", errors)
    encounter = _context_check(patient=patient, encounter=encounter, note=note, errors=errors)

    given = {
        "heart_rate": heart_rate,
        "respiratory_rate": respiratory_rate,
        "spo2": spo2,
        "temperature": temperature,
        "systolic_bp": systolic_bp,
        "diastolic_bp": diastolic_bp,
    }
    numbers: dict[str, Decimal] = {}
    for code, raw in given.items():
        number = _decimal(raw, code, errors)
        if number is None:
            continue
        low, high, unit = VITAL_LIMITS[code]
        if not low <= number <= high:
            errors.setdefault(code, []).append(
                _("%(name)s must be between %(low)s and %(high)s %(unit)s.")
                % {"name": VitalSign(code).label, "low": low, "high": high, "unit": UNIT_LABELS.get(unit, unit)}
            )
            continue
        numbers[code] = number
    if "systolic_bp" in numbers and "diastolic_bp" in numbers and numbers["systolic_bp"] <= numbers["diastolic_bp"]:
        errors.setdefault("systolic_bp", []).append(
            _("The systolic pressure must be higher than the diastolic pressure.")
        )

    texts: dict[str, tuple[Decimal | None, str]] = {}
    if consciousness not in (None, ""):
        letter = str(consciousness).strip().upper()
        if letter not in AVPU:
            errors.setdefault("consciousness", []).append(
                _("Consciousness must be one of A (alert), C (new confusion), V (voice), P (pain), U (unresponsive).")
            )
        else:
            texts["consciousness"] = (None, letter)
    if supplemental_oxygen is not None:
        if not isinstance(supplemental_oxygen, bool):
            errors.setdefault("supplemental_oxygen", []).append(_("Answer yes or no."))
        else:
            texts["supplemental_oxygen"] = (Decimal(int(supplemental_oxygen)), "yes" if supplemental_oxygen else "no")

    if not errors and not numbers and not texts:
        errors["non_field_errors"] = [_("Record at least one vital sign.")]
    if errors:
        raise ValidationError(errors)

    set_id = uuid.uuid4()
    common = {
        "patient": patient,
        "encounter": encounter,
        "note": note,
        "category": Observation.Category.VITAL_SIGN,
        "effective_at": taken_at,
        "set_id": set_id,
        "source": source,
        "recorded_by": recorded_by,
    }
    rows = [
        Observation(code=code, display=str(VitalSign(code).label), value_numeric=number, unit=VITAL_LIMITS[code][2])
        for code, number in numbers.items()
    ] + [
        Observation(code=code, display=str(VitalSign(code).label), value_numeric=number, value_text=text)
        for code, (number, text) in texts.items()
    ]
    for row in rows:
        for name, value in common.items():
            setattr(row, name, value)
        # Everything the database's check constraints test is checked above with field errors; skipping
        # Django's re-check of them (one query per constraint and row) keeps a set at a handful of queries.
        row.full_clean(validate_unique=False, validate_constraints=False)
    created = Observation.objects.bulk_create(rows)
    _enqueue_on_commit(NEWS2_TASK, str(set_id))
    _enqueue_on_commit(CONFLICT_TASK, str(set_id))
    _enqueue_on_commit(DRIFT_TASK, str(set_id))
    access_log_record(
        actor=recorded_by,
        action="create",
        object_type="emr.observation",
        object_id=str(set_id),
        patient_external_id=patient.external_id,
        detail={"category": "vital_sign", "codes": [row.code for row in created]},
    )
    return created


def lab_flag(
    *, code: str, unit: str, value: Decimal | None, reference_low: Decimal | None, reference_high: Decimal | None
) -> str:
    """The abnormal flag of a numeric result: LL/HH beyond the test's critical limits (emr.lab_limits),
    else L/H outside the reference range, N inside it; "" when there is no number or nothing to compare with."""
    if value is None:
        return ""
    limit = critical_limit(code, unit)
    if limit is not None:
        if limit.low is not None and value < limit.low:
            return Flag.CRITICAL_LOW
        if limit.high is not None and value > limit.high:
            return Flag.CRITICAL_HIGH
    if reference_low is not None and value < reference_low:
        return Flag.LOW
    if reference_high is not None and value > reference_high:
        return Flag.HIGH
    if reference_low is None and reference_high is None:
        return ""
    return Flag.NORMAL


@transaction.atomic
def lab_result_record(
    *,
    patient: Patient,
    code: str,
    display: str,
    unit: str,
    effective_at: datetime,
    recorded_by: User,
    value_numeric=None,
    value_text: str = "",
    reference_low=None,
    reference_high=None,
    encounter: Encounter | None = None,
    source: str = Observation.Source.INTERFACE,
) -> Observation:
    """Record one laboratory result with its abnormal flag computed here (see `lab_flag`).

    Guarantees: a code and a value (number or text) are given, the reference range is in order, the
    time is not in the future and the encounter is the patient's; otherwise ValidationError with field
    errors and nothing is written. One "create" access-log entry. Once committed, the critical-value check
    and the conflict check are enqueued on the "alerts" queue.
    """
    errors: dict[str, list[str]] = {}
    code = (code or "").strip()
    value_text = (value_text or "").strip()
    if not code:
        errors["code"] = [_("Give the test's code.")]
    number = _decimal(value_numeric, "value_numeric", errors)
    low = _decimal(reference_low, "reference_low", errors)
    high = _decimal(reference_high, "reference_high", errors)
    if number is None and not value_text and "value_numeric" not in errors:
        errors["value_numeric"] = [_("Give the result as a number or as text.")]
    if low is not None and high is not None and low > high:
        errors.setdefault("reference_low", []).append(_("The lower reference limit is above the upper one."))
    _not_in_future(effective_at, "effective_at", errors)
    _context_check(patient=patient, encounter=encounter, note=None, errors=errors)
    if errors:
        raise ValidationError(errors)

    observation = Observation(
        patient=patient,
        encounter=encounter,
        category=Observation.Category.LABORATORY,
        code=code,
        display=(display or "").strip(),
        value_numeric=number,
        value_text=value_text,
        unit=(unit or "").strip(),
        reference_low=low,
        reference_high=high,
        flag=lab_flag(code=code, unit=unit, value=number, reference_low=low, reference_high=high),
        effective_at=effective_at,
        source=source,
        recorded_by=recorded_by,
    )
    observation.full_clean(validate_unique=False, validate_constraints=False)
    observation.save()
    _enqueue_on_commit(CRITICAL_LAB_TASK, observation.pk)
    _enqueue_on_commit(LAB_CONFLICT_TASK, observation.pk)
    access_log_record(
        actor=recorded_by,
        action="create",
        object_type="emr.observation",
        object_id=str(observation.external_id),
        patient_external_id=patient.external_id,
        detail={"category": "laboratory", "code": code, "flag": observation.flag},
    )
    return observation
