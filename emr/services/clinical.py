"""Writes of the problem list, allergies and medication orders (with the allergy check).

Every service validates first (ValidationError with field errors, nothing written), locks the patient row
where two writes could contradict each other (an allergy and "no known allergies", an allergy and an order
of that drug), and writes its access-log entry as the last step.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from emr.models import Allergy, Condition, Encounter, MedicationOrder, Patient
from emr.selectors.clinical import medication_allergy_conflicts
from emr.selectors.terminology import icd10_get
from hospital.core.models import User
from hospital.core.services.access_log import access_log_record
from pharmacy.models import Drug

OVERRIDE_REASON_MIN_LENGTH = 10


class AllergyConflictError(ValidationError):
    """An order conflicts with an active allergy and no (or no valid) override reason was given.

    A ValidationError keyed "allergy" (one message per conflict); `conflicts` holds the details as dicts
    (allergy external id, substance, severity, reason, message) for an API to return.
    """

    code = "allergy_conflict"

    def __init__(self, conflicts: list[dict]):
        self.conflicts = conflicts
        super().__init__({"allergy": [ValidationError(c["message"], code=self.code) for c in conflicts]})


def _log(*, actor: User, action: str, object_type: str, obj, patient: Patient, detail: dict | None = None) -> None:
    access_log_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(obj.external_id),
        patient_external_id=patient.external_id,
        detail=detail,
    )


def _locked_patient(patient: Patient) -> Patient:
    return Patient.objects.select_for_update().get(pk=patient.pk)


def _common_errors(*, patient: Patient, encounter: Encounter | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not patient.is_active:
        errors["patient"] = _("This patient record was merged into another; use the surviving record.")
    if encounter is not None and encounter.patient_id != patient.pk:
        errors["encounter"] = _("This encounter belongs to another patient.")
    return errors


def _clean(instance, errors: dict[str, str], *, exclude: list[str]) -> None:
    try:
        instance.full_clean(exclude=["created_at", "updated_at", *exclude], validate_constraints=False)
    except ValidationError as exc:
        errors = {**{key: messages[0] for key, messages in exc.message_dict.items()}, **errors}
    if errors:
        raise ValidationError(errors)


# --- Conditions (the problem list) -------------------------------------------------------------------------


@transaction.atomic
def condition_record(
    *,
    patient: Patient,
    icd10_code: str,
    recorded_by: User,
    encounter: Encounter | None = None,
    clinical_status: str = Condition.ClinicalStatus.ACTIVE,
    verification: str = Condition.Verification.CONFIRMED,
    onset_date: date | None = None,
    note: str = "",
) -> Condition:
    """Record a condition of `patient` coded in ICD-10 (written with or without the dot, any case).

    Guarantees: the code exists in WHO ICD-10 and is recordable (not a chapter, block or category with
    subcategories), else a ValidationError on "icd10_code"; status and verification are valid choices; the
    onset is not in the future; the encounter, if given, is the patient's; the patient is not a merged-away
    record. Nothing is written on error. Access-logged as "create" on "emr.condition".
    """
    errors = _common_errors(patient=patient, encounter=encounter)
    icd10 = None
    try:
        icd10 = icd10_get(icd10_code)
    except ValidationError as exc:
        errors["icd10_code"] = exc.messages[0]
    if icd10 is not None and not icd10.is_leaf:
        errors["icd10_code"] = _(
            "%(code)s is an ICD-10 %(kind)s, not a recordable code; choose one of the codes under it."
        ) % {"code": icd10.code, "kind": icd10.kind}
    if onset_date is not None and onset_date > timezone.localdate():
        errors["onset_date"] = _("The onset cannot be in the future.")
    condition = Condition(
        patient=patient,
        encounter=encounter,
        icd10=icd10,
        clinical_status=clinical_status,
        verification=verification,
        onset_date=onset_date,
        abatement_date=timezone.localdate() if clinical_status == Condition.ClinicalStatus.RESOLVED else None,
        note=(note or "").strip(),
        recorded_by=recorded_by,
    )
    _clean(condition, errors, exclude=["icd10"] if icd10 is None else [])
    assert icd10 is not None  # a failed lookup left an error on "icd10_code", so _clean raised
    condition.save()
    _log(
        actor=recorded_by,
        action="create",
        object_type="emr.condition",
        obj=condition,
        patient=patient,
        detail={"icd10": icd10.code, "clinical_status": clinical_status, "verification": verification},
    )
    return condition


@transaction.atomic
def condition_update_status(
    *,
    condition: Condition,
    updated_by: User,
    clinical_status: str | None = None,
    verification: str | None = None,
    abatement_date: date | None = None,
) -> Condition:
    """Change a condition's clinical status and/or verification (resolve it, mark it entered in error...).

    Guarantees: the values are valid choices; resolving or inactivating sets the abatement date (given, or
    today), which is not in the future nor before the onset; reactivating clears it. ValidationError with
    field errors otherwise, nothing written. Access-logged as "write" on "emr.condition" with the change.
    """
    condition = Condition.objects.select_for_update().select_related("patient").get(pk=condition.pk)
    errors: dict[str, str] = {}
    if clinical_status is None and verification is None:
        errors["clinical_status"] = _("Give a new clinical status or verification.")
    before = {"clinical_status": condition.clinical_status, "verification": condition.verification}
    if clinical_status is not None:
        condition.clinical_status = clinical_status
    if verification is not None:
        condition.verification = verification
    if condition.clinical_status == Condition.ClinicalStatus.ACTIVE:
        condition.abatement_date = None
    else:
        condition.abatement_date = abatement_date or condition.abatement_date or timezone.localdate()
        if condition.abatement_date > timezone.localdate():
            errors["abatement_date"] = _("The condition cannot resolve in the future.")
        elif condition.onset_date and condition.abatement_date < condition.onset_date:
            errors["abatement_date"] = _("The condition cannot resolve before its onset.")
    _clean(condition, errors, exclude=[])
    condition.save(update_fields=["clinical_status", "verification", "abatement_date", "updated_at"])
    _log(
        actor=updated_by,
        action="write",
        object_type="emr.condition",
        obj=condition,
        patient=condition.patient,
        detail={
            "before": before,
            "after": {"clinical_status": condition.clinical_status, "verification": condition.verification},
        },
    )
    return condition


# --- Allergies ------------------------------------------------------------------------------------------------


@transaction.atomic
def allergy_record(
    *,
    patient: Patient,
    substance: str,
    recorded_by: User,
    drug: Drug | None = None,
    category: str = Allergy.Category.DRUG,
    reaction: str = "",
    severity: str = Allergy.Severity.MODERATE,
) -> Allergy:
    """Record an active allergy of `patient` and set the patient's allergy status to "has allergies".

    Guarantees: a substance is named (the formulary drug's English name when only `drug` is given); an
    allergy linked to a formulary drug is a drug allergy; category and severity are valid choices. The
    patient row is locked so that a concurrent "no known allergies" cannot contradict it. Nothing is written
    on error. Access-logged as "create" on "emr.allergy".
    """
    patient = _locked_patient(patient)
    errors = _common_errors(patient=patient, encounter=None)
    substance = " ".join((substance or "").split()) or (drug.generic_name_en if drug else "")
    if not substance:
        errors["substance"] = _("Name the substance the patient is allergic to.")
    if drug is not None and category != Allergy.Category.DRUG:
        errors["category"] = _("An allergy to a formulary drug is a drug allergy.")
    allergy = Allergy(
        patient=patient,
        substance=substance,
        drug=drug,
        category=category,
        reaction=(reaction or "").strip(),
        severity=severity,
        status=Allergy.Status.ACTIVE,
        recorded_by=recorded_by,
    )
    _clean(allergy, errors, exclude=[])
    allergy.save()
    if patient.allergy_status != Patient.AllergyStatus.HAS_ALLERGIES:
        patient.allergy_status = Patient.AllergyStatus.HAS_ALLERGIES
        patient.save(update_fields=["allergy_status", "updated_at"])
    _log(
        actor=recorded_by,
        action="create",
        object_type="emr.allergy",
        obj=allergy,
        patient=patient,
        detail={"substance": substance, "category": category, "severity": severity},
    )
    return allergy


@transaction.atomic
def allergy_update_status(*, allergy: Allergy, status: str, updated_by: User) -> Allergy:
    """Set an allergy active, inactive or refuted (an allergy is never deleted).

    The patient's allergy status stays as it is: whether the patient now has no known allergies is a
    clinician's statement (`allergy_none_known`), not a consequence. Access-logged as "write".
    """
    allergy = Allergy.objects.select_for_update().select_related("patient").get(pk=allergy.pk)
    before = allergy.status
    allergy.status = status
    _clean(allergy, {}, exclude=[])
    allergy.save(update_fields=["status", "updated_at"])
    if status == Allergy.Status.ACTIVE and allergy.patient.allergy_status != Patient.AllergyStatus.HAS_ALLERGIES:
        Patient.objects.filter(pk=allergy.patient_id).update(allergy_status=Patient.AllergyStatus.HAS_ALLERGIES)
    _log(
        actor=updated_by,
        action="write",
        object_type="emr.allergy",
        obj=allergy,
        patient=allergy.patient,
        detail={"before": before, "after": status},
    )
    return allergy


@transaction.atomic
def allergy_none_known(*, patient: Patient, recorded_by: User) -> Patient:
    """Record that the patient was asked and has no known allergies (different from "not asked").

    Guarantees: refused with a ValidationError on "allergy_status" while the patient has an active allergy
    (inactivate or refute it first); checked under a lock of the patient row. Access-logged as "write" on
    "emr.patient".
    """
    patient = _locked_patient(patient)
    errors = _common_errors(patient=patient, encounter=None)
    active = list(
        Allergy.objects.filter(patient=patient, status=Allergy.Status.ACTIVE).values_list("substance", flat=True)
    )
    if active:
        errors["allergy_status"] = _(
            "The patient has active allergies (%(substances)s); inactivate or refute them first."
        ) % {"substances": ", ".join(active)}
    if errors:
        raise ValidationError(errors)
    patient.allergy_status = Patient.AllergyStatus.NO_KNOWN_ALLERGIES
    patient.save(update_fields=["allergy_status", "updated_at"])
    _log(
        actor=recorded_by,
        action="write",
        object_type="emr.patient",
        obj=patient,
        patient=patient,
        detail={"allergy_status": patient.allergy_status},
    )
    return patient


# --- Medication orders ----------------------------------------------------------------------------------------


def _dose(value) -> tuple[Decimal | None, str | None]:
    try:
        dose = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None, _("Enter the dose as a number.")
    if not dose.is_finite():
        return None, _("Enter the dose as a number.")
    if dose <= 0:
        return None, _("The dose must be greater than zero.")
    return dose, None


@transaction.atomic
def medication_order_create(
    *,
    patient: Patient,
    drug: Drug,
    dose,
    dose_unit: str,
    route: str,
    frequency: str,
    ordered_by: User,
    duration_days: int | None = None,
    encounter: Encounter | None = None,
    instructions: str = "",
    allergy_override_reason: str = "",
) -> MedicationOrder:
    """Order a formulary drug for `patient`, after the allergy check.

    Guarantees: the dose is a number greater than zero ("dose"), unit, route, frequency and duration are
    valid, the drug is active in the formulary, the encounter (if any) is the patient's. The allergy check
    (emr.selectors.clinical.medication_allergy_conflicts) runs under a lock of the patient row: a conflict
    raises AllergyConflictError (a ValidationError on "allergy") unless `allergy_override_reason` has at least
    OVERRIDE_REASON_MIN_LENGTH characters, in which case the order is saved with the conflicts in
    `allergy_conflicts` and the access-log entry records the override. Nothing is written on error.

    The returned order carries `warnings`, a list of {"code", "message"}: "allergy_status_unknown" when the
    patient was never asked about allergies (the check could not rule anything out). Access-logged as
    "create" on "emr.medicationorder".
    """
    patient = _locked_patient(patient)
    errors = _common_errors(patient=patient, encounter=encounter)
    dose_value, dose_error = _dose(dose)
    if dose_error:
        errors["dose"] = dose_error
    if not drug.is_active:
        errors["drug"] = _("%(drug)s is no longer in the formulary.") % {"drug": drug}
    if duration_days is not None and duration_days <= 0:
        errors["duration_days"] = _("The duration must be at least one day.")
    order = MedicationOrder(
        patient=patient,
        encounter=encounter,
        drug=drug,
        dose=dose_value if dose_value is not None else Decimal("1"),
        dose_unit=(dose_unit or "").strip(),
        route=route,
        frequency=frequency,
        duration_days=duration_days,
        instructions=(instructions or "").strip(),
        ordered_by=ordered_by,
        ordered_at=timezone.now(),
        status=MedicationOrder.Status.ACTIVE,
    )
    _clean(order, errors, exclude=[])

    conflicts = [conflict.as_dict() for conflict in medication_allergy_conflicts(patient=patient, drug=drug)]
    reason = " ".join((allergy_override_reason or "").split())
    if conflicts:
        if not reason:
            raise AllergyConflictError(conflicts)
        if len(reason) < OVERRIDE_REASON_MIN_LENGTH:
            error = AllergyConflictError(conflicts)
            error.error_dict["allergy_override_reason"] = [
                ValidationError(
                    _("Give a reason of at least %(n)d characters to override the allergy check.")
                    % {"n": OVERRIDE_REASON_MIN_LENGTH}
                )
            ]
            raise error
        order.allergy_conflicts = conflicts
        order.allergy_override_reason = reason
    order.save()

    warnings = []
    if patient.allergy_status == Patient.AllergyStatus.UNKNOWN:
        warnings.append(
            {
                "code": "allergy_status_unknown",
                "message": _("The patient's allergies have not been asked about: the allergy check is incomplete."),
            }
        )
    detail: dict = {"drug": str(drug.external_id), "dose": str(order.dose), "dose_unit": order.dose_unit}
    if conflicts:
        detail["allergy_override"] = {"reason": reason, "substances": [c["substance"] for c in conflicts]}
    if warnings:
        detail["warnings"] = [warning["code"] for warning in warnings]
    _log(
        actor=ordered_by, action="create", object_type="emr.medicationorder", obj=order, patient=patient, detail=detail
    )
    order.warnings = warnings
    return order


@transaction.atomic
def medication_order_stop(*, order: MedicationOrder, stopped_by: User, reason: str = "") -> MedicationOrder:
    """Stop an active medication order.

    Guarantees: only an active order stops (ValidationError on "status" otherwise, checked under a row lock
    so two requests cannot both stop it). Access-logged as "write" on "emr.medicationorder" with the reason.
    """
    order = MedicationOrder.objects.select_for_update().select_related("patient", "drug").get(pk=order.pk)
    if order.status != MedicationOrder.Status.ACTIVE:
        raise ValidationError(
            {
                "status": _("Only an active order can be stopped; this one is %(status)s.")
                % {"status": order.get_status_display()}
            }
        )
    order.status = MedicationOrder.Status.STOPPED
    order.save(update_fields=["status", "updated_at"])
    _log(
        actor=stopped_by,
        action="write",
        object_type="emr.medicationorder",
        obj=order,
        patient=order.patient,
        detail={"status": order.status, "reason": " ".join((reason or "").split())},
    )
    return order
