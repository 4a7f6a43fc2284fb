"""Problems (ICD-10 conditions), allergies and medication orders."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from emr.models.encounters import Encounter
from emr.models.patients import Patient
from emr.models.terminology import Icd10Code
from hospital.core.models import BaseModel


class Condition(BaseModel):
    """A problem or diagnosis of the patient, coded in ICD-10; active ones form the problem list."""

    class ClinicalStatus(models.TextChoices):
        ACTIVE = "active", _("Active")
        RESOLVED = "resolved", _("Resolved")
        INACTIVE = "inactive", _("Inactive")

    class Verification(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        PROVISIONAL = "provisional", _("Provisional")
        REFUTED = "refuted", _("Refuted")
        ENTERED_IN_ERROR = "entered_in_error", _("Entered in error")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="conditions")
    encounter = models.ForeignKey(Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="conditions")
    icd10 = models.ForeignKey(Icd10Code, verbose_name=_("ICD-10 code"), on_delete=models.PROTECT, related_name="+")
    clinical_status = models.CharField(
        _("clinical status"), max_length=20, choices=ClinicalStatus.choices, default=ClinicalStatus.ACTIVE
    )
    verification = models.CharField(
        _("verification"), max_length=20, choices=Verification.choices, default=Verification.CONFIRMED
    )
    onset_date = models.DateField(_("onset"), null=True, blank=True)
    abatement_date = models.DateField(_("resolved on"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta(BaseModel.Meta):
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")
        indexes = [models.Index(fields=["patient", "clinical_status"], name="emr_condition_patient_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(abatement_date__isnull=True)
                | models.Q(onset_date__isnull=True)
                | models.Q(abatement_date__gte=models.F("onset_date")),
                name="emr_condition_resolves_after_onset",
            )
        ]


class Allergy(BaseModel):
    """An allergy or intolerance: substance (a formulary drug where it is one), reaction and severity."""

    class Category(models.TextChoices):
        DRUG = "drug", _("Drug")
        FOOD = "food", _("Food")
        ENVIRONMENT = "environment", _("Environment")
        OTHER = "other", _("Other")

    class Severity(models.TextChoices):
        MILD = "mild", _("Mild")
        MODERATE = "moderate", _("Moderate")
        SEVERE = "severe", _("Severe")
        LIFE_THREATENING = "life_threatening", _("Life-threatening")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
        REFUTED = "refuted", _("Refuted")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="allergies")
    substance = models.CharField(_("substance"), max_length=200)
    drug = models.ForeignKey(
        "pharmacy.Drug", verbose_name=_("formulary drug"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.DRUG)
    reaction = models.CharField(_("reaction"), max_length=300, blank=True)
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices, default=Severity.MODERATE)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta(BaseModel.Meta):
        verbose_name = _("allergy")
        verbose_name_plural = _("allergies")
        indexes = [models.Index(fields=["patient", "status"], name="emr_allergy_patient_idx")]
        constraints = [models.CheckConstraint(condition=~models.Q(substance=""), name="emr_allergy_substance")]


class MedicationOrder(BaseModel):
    """An order for a formulary drug: dose, unit, route, frequency, duration.

    The allergy check runs in the service; an order that conflicts with an active allergy is only
    accepted with `allergy_override_reason`, and the conflicts found are kept in `allergy_conflicts`.
    """

    class Route(models.TextChoices):
        ORAL = "oral", _("Oral")
        IV = "iv", _("Intravenous")
        IM = "im", _("Intramuscular")
        SC = "sc", _("Subcutaneous")
        INHALED = "inhaled", _("Inhaled")
        TOPICAL = "topical", _("Topical")
        RECTAL = "rectal", _("Rectal")
        SUBLINGUAL = "sublingual", _("Sublingual")
        OTHER = "other", _("Other")

    class Frequency(models.TextChoices):
        ONCE = "once", _("Once")
        QD = "qd", _("Once daily")
        BID = "bid", _("Twice daily")
        TID = "tid", _("Three times daily")
        QID = "qid", _("Four times daily")
        Q4H = "q4h", _("Every 4 hours")
        Q6H = "q6h", _("Every 6 hours")
        Q8H = "q8h", _("Every 8 hours")
        Q12H = "q12h", _("Every 12 hours")
        QN = "qn", _("At night")
        PRN = "prn", _("As needed")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        STOPPED = "stopped", _("Stopped")
        CANCELLED = "cancelled", _("Cancelled")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="medication_orders")
    encounter = models.ForeignKey(Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    drug = models.ForeignKey("pharmacy.Drug", verbose_name=_("drug"), on_delete=models.PROTECT, related_name="+")
    dose = models.DecimalField(_("dose"), max_digits=10, decimal_places=3)
    dose_unit = models.CharField(_("dose unit"), max_length=20)
    route = models.CharField(_("route"), max_length=20, choices=Route.choices)
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    duration_days = models.PositiveIntegerField(_("duration (days)"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    instructions = models.CharField(_("instructions"), max_length=300, blank=True)
    allergy_override_reason = models.TextField(_("allergy override reason"), blank=True)
    allergy_conflicts = models.JSONField(_("allergy conflicts"), default=list, blank=True)
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ordered_at = models.DateTimeField(_("ordered at"))

    # Not stored: emr.services.clinical.medication_order_create sets it on the order it returns, the warnings
    # for the prescriber ({"code", "message"}).
    warnings: list[dict[str, str]]

    class Meta(BaseModel.Meta):
        verbose_name = _("medication order")
        verbose_name_plural = _("medication orders")
        indexes = [models.Index(fields=["patient", "status"], name="emr_order_patient_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(dose__gt=Decimal("0")), name="emr_order_dose_positive"),
            models.CheckConstraint(
                condition=models.Q(duration_days__isnull=True) | models.Q(duration_days__gt=0),
                name="emr_order_duration_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(allergy_conflicts=[]) | ~models.Q(allergy_override_reason=""),
                name="emr_order_allergy_override_reasoned",
            ),
        ]
