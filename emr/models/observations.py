"""Observations: vital signs and laboratory results."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from emr.models.encounters import Encounter
from emr.models.notes import ClinicalNote
from emr.models.patients import Patient
from hospital.core.models import BaseModel

# Physiologically possible ranges: outside them a reading is a typing or device error, not a patient.
VITAL_LIMITS: dict[str, tuple[Decimal, Decimal, str]] = {
    "heart_rate": (Decimal("20"), Decimal("300"), "/min"),
    "respiratory_rate": (Decimal("2"), Decimal("80"), "/min"),
    "spo2": (Decimal("40"), Decimal("100"), "%"),
    "temperature": (Decimal("25"), Decimal("45"), "Cel"),
    "systolic_bp": (Decimal("30"), Decimal("300"), "mm[Hg]"),
    "diastolic_bp": (Decimal("10"), Decimal("200"), "mm[Hg]"),
}


class VitalSign(models.TextChoices):
    """The vital signs the platform records (the NEWS2 parameters)."""

    HEART_RATE = "heart_rate", _("Heart rate")
    RESPIRATORY_RATE = "respiratory_rate", _("Respiratory rate")
    SPO2 = "spo2", _("SpO2")
    TEMPERATURE = "temperature", _("Temperature")
    SYSTOLIC_BP = "systolic_bp", _("Systolic blood pressure")
    DIASTOLIC_BP = "diastolic_bp", _("Diastolic blood pressure")
    CONSCIOUSNESS = "consciousness", _("Consciousness (AVPU)")
    SUPPLEMENTAL_OXYGEN = "supplemental_oxygen", _("Supplemental oxygen")


class Observation(BaseModel):
    """A measured value about the patient: a vital sign or a laboratory result.

    Vital signs use the codes of `VitalSign`; numeric vitals must lie in VITAL_LIMITS (a check
    constraint), consciousness is an AVPU letter and supplemental oxygen a yes/no. A set of vitals
    taken together shares `set_id`. Laboratory results carry their own code, unit, reference range
    and abnormal flag.
    """

    class Category(models.TextChoices):
        VITAL_SIGN = "vital_sign", _("Vital sign")
        LABORATORY = "laboratory", _("Laboratory")

    VitalSign = VitalSign

    class Flag(models.TextChoices):
        NORMAL = "N", _("Normal")
        LOW = "L", _("Low")
        HIGH = "H", _("High")
        CRITICAL_LOW = "LL", _("Critically low")
        CRITICAL_HIGH = "HH", _("Critically high")
        ABNORMAL = "A", _("Abnormal")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by hand")
        DEVICE = "device", _("Device")
        INTERFACE = "interface", _("Interface (LIS/HIS)")
        DICTATION = "dictation", _("Dictation")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="observations")
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="observations"
    )
    note = models.ForeignKey(ClinicalNote, null=True, blank=True, on_delete=models.PROTECT, related_name="vitals")
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    code = models.CharField(_("code"), max_length=40)
    display = models.CharField(_("name"), max_length=200, blank=True)
    value_numeric = models.DecimalField(_("value"), max_digits=12, decimal_places=4, null=True, blank=True)
    value_text = models.CharField(_("text value"), max_length=200, blank=True)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    reference_low = models.DecimalField(_("reference low"), max_digits=12, decimal_places=4, null=True, blank=True)
    reference_high = models.DecimalField(_("reference high"), max_digits=12, decimal_places=4, null=True, blank=True)
    flag = models.CharField(_("flag"), max_length=2, choices=Flag.choices, blank=True)
    effective_at = models.DateTimeField(_("taken at"))
    set_id = models.UUIDField(_("set"), null=True, blank=True, db_index=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.MANUAL)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta(BaseModel.Meta):
        verbose_name = _("observation")
        verbose_name_plural = _("observations")
        ordering = ["-effective_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "category", "code", "-effective_at"], name="emr_obs_patient_code_idx"),
            models.Index(fields=["encounter", "-effective_at"], name="emr_obs_encounter_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(value_numeric__isnull=True, value_text=""), name="emr_obs_has_value"
            ),
            models.CheckConstraint(
                condition=models.Q(reference_low__isnull=True)
                | models.Q(reference_high__isnull=True)
                | models.Q(reference_low__lte=models.F("reference_high")),
                name="emr_obs_reference_range_order",
            ),
            models.CheckConstraint(
                condition=~models.Q(category="vital_sign") | models.Q(code__in=[choice.value for choice in VitalSign]),
                name="emr_obs_known_vital_code",
            ),
            models.CheckConstraint(
                condition=~models.Q(code="consciousness", category="vital_sign")
                | models.Q(value_text__in=["A", "C", "V", "P", "U"]),
                name="emr_obs_avpu",
            ),
            *[
                models.CheckConstraint(
                    condition=~models.Q(code=code, category="vital_sign")
                    | models.Q(value_numeric__gte=low, value_numeric__lte=high),
                    name=f"emr_obs_{code}_range",
                )
                for code, (low, high, _unit) in VITAL_LIMITS.items()
            ],
        ]
