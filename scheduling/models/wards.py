"""Wards and beds, and the daily census history that forecasting learns from."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hospital.core.models import BaseModel


class Specialty(models.TextChoices):
    GENERAL_MEDICINE = "general_medicine", _("General medicine")
    CARDIOLOGY = "cardiology", _("Cardiology")
    RESPIRATORY = "respiratory", _("Respiratory medicine")
    GENERAL_SURGERY = "general_surgery", _("General surgery")
    ORTHOPAEDICS = "orthopaedics", _("Orthopaedics")
    PAEDIATRICS = "paediatrics", _("Paediatrics")
    OBSTETRICS = "obstetrics", _("Obstetrics")
    CRITICAL_CARE = "critical_care", _("Critical care")


class Department(BaseModel):
    """A clinical department (科室): the unit that owns wards, staff and, later, cost centres."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=60)
    specialty = models.CharField(_("specialty"), max_length=40, choices=Specialty.choices)

    class Meta(BaseModel.Meta):
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"


class Ward(BaseModel):
    """An inpatient ward (病区) of a department: the unit beds, bed stays, rosters and census belong to."""

    class SexPolicy(models.TextChoices):
        MIXED = "mixed", _("Mixed")
        FEMALE = "female", _("Female only")
        MALE = "male", _("Male only")

    class NursingLevel(models.TextChoices):
        # Staffing intensity, from routine care up to one-to-one intensive care.
        STANDARD = "standard", _("Standard")
        HIGH_DEPENDENCY = "high_dependency", _("High dependency")
        INTENSIVE = "intensive", _("Intensive")

    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="wards"
    )
    code = models.CharField(_("code"), max_length=20, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=60)
    specialty = models.CharField(_("specialty"), max_length=40, choices=Specialty.choices)
    sex_policy = models.CharField(_("sex policy"), max_length=10, choices=SexPolicy.choices, default=SexPolicy.MIXED)
    isolation_capable = models.BooleanField(_("isolation capable"), default=False)
    nursing_level = models.CharField(
        _("nursing level"), max_length=20, choices=NursingLevel.choices, default=NursingLevel.STANDARD
    )
    turnaround_target_minutes = models.PositiveIntegerField(
        _("bed turnaround target (minutes)"),
        default=60,
        help_text=_("Target time from a discharge to the bed being clean and ready for the next patient."),
    )

    class Meta(BaseModel.Meta):
        ordering = ["code"]
        verbose_name = _("ward")
        verbose_name_plural = _("wards")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(turnaround_target_minutes__gt=0), name="scheduling_ward_turnaround_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"


class Bed(BaseModel):
    """A physical bed in a ward. Who lies in it, and when, is recorded by bed stays (BedStay), never here."""

    class BedType(models.TextChoices):
        GENERAL = "general", _("General")
        ICU = "icu", _("Intensive care")
        ISOLATION = "isolation", _("Isolation")
        PAEDIATRIC = "paediatric", _("Paediatric")
        MATERNITY = "maternity", _("Maternity")

    ward = models.ForeignKey(Ward, verbose_name=_("ward"), on_delete=models.PROTECT, related_name="beds")
    code = models.CharField(_("code"), max_length=20, help_text=_("Unique within the ward, e.g. 12-1."))
    bed_type = models.CharField(_("bed type"), max_length=20, choices=BedType.choices, default=BedType.GENERAL)
    room = models.ForeignKey(
        "scheduling.Room", verbose_name=_("room"), null=True, blank=True, on_delete=models.PROTECT, related_name="beds"
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive beds (closed, under repair) are not counted as capacity.")
    )

    class Meta(BaseModel.Meta):
        ordering = ["ward_id", "code"]
        verbose_name = _("bed")
        verbose_name_plural = _("beds")
        constraints = [
            models.UniqueConstraint(fields=["ward", "code"], name="scheduling_bed_code_unique_in_ward"),
        ]

    def __str__(self) -> str:
        return f"{self.ward.code}/{self.code}"


class WardDailyCensus(BaseModel):
    """One ward's flows and midnight occupancy for one day: the history that forecasting learns from.

    Rows are daily aggregates (imported history, the demo hospital, or a nightly snapshot derived from
    bed stays once those exist); they are never the source of truth for who occupies a bed today.
    The stock identity occupied(d) = occupied(d-1) + admissions + transfers_in - discharges - transfers_out
    holds for consecutive days of a series. Occupancy may exceed capacity (extra corridor beds), so
    the database only insists on non-negative counts and a positive capacity.
    """

    ward = models.ForeignKey(Ward, verbose_name=_("ward"), on_delete=models.PROTECT, related_name="daily_census")
    date = models.DateField(_("date"))
    admissions = models.PositiveIntegerField(_("admissions"), default=0)
    discharges = models.PositiveIntegerField(_("discharges"), default=0)
    transfers_in = models.PositiveIntegerField(_("transfers in"), default=0)
    transfers_out = models.PositiveIntegerField(_("transfers out"), default=0)
    occupied_at_midnight = models.PositiveIntegerField(_("occupied at midnight"), default=0)
    capacity = models.PositiveIntegerField(_("capacity"), help_text=_("Active beds on that day."))

    class Meta(BaseModel.Meta):
        ordering = ["ward_id", "date"]
        verbose_name = _("ward daily census")
        verbose_name_plural = _("ward daily census")
        constraints = [
            models.UniqueConstraint(fields=["ward", "date"], name="scheduling_census_one_row_per_ward_day"),
            models.CheckConstraint(
                condition=models.Q(
                    admissions__gte=0,
                    discharges__gte=0,
                    transfers_in__gte=0,
                    transfers_out__gte=0,
                    occupied_at_midnight__gte=0,
                ),
                name="scheduling_census_counts_non_negative",
            ),
            models.CheckConstraint(condition=models.Q(capacity__gt=0), name="scheduling_census_capacity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.ward.code} {self.date}: {self.occupied_at_midnight}/{self.capacity}"

    @property
    def occupancy_rate(self) -> float:
        return self.occupied_at_midnight / self.capacity


class WardAssignment(BaseModel):
    """A staff member's assignment to a ward (the roster's backbone): ward staff treat the ward's inpatients.

    An assignment without `ends_on` is current. Access to charts follows it: a nurse sees the inpatients
    of the wards she is assigned to today (emr.selectors.access).
    """

    class Role(models.TextChoices):
        DOCTOR = "doctor", _("Doctor")
        NURSE = "nurse", _("Nurse")
        OTHER = "other", _("Other")

    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ward_assignments")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("ward assignment")
        verbose_name_plural = _("ward assignments")
        indexes = [models.Index(fields=["user", "ends_on"], name="sched_assignment_user_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
                name="sched_assignment_dates",
            ),
            models.UniqueConstraint(fields=["ward", "user", "starts_on"], name="sched_assignment_unique"),
        ]
