"""Encounters, their care teams, and time-limited break-the-glass access."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from emr.models.patients import Patient
from hospital.core.models import BaseModel


class Encounter(BaseModel):
    """One contact of a patient with the hospital: an outpatient visit, an inpatient stay, an emergency visit.

    The attending clinician and the care team (CareTeamMember) decide who treats the patient; for an
    inpatient encounter, `ward` also gives the ward's staff access (see emr.selectors.access).
    """

    class EncounterClass(models.TextChoices):
        OUTPATIENT = "outpatient", _("Outpatient")
        INPATIENT = "inpatient", _("Inpatient")
        EMERGENCY = "emergency", _("Emergency")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        FINISHED = "finished", _("Finished")
        CANCELLED = "cancelled", _("Cancelled")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="encounters")
    encounter_class = models.CharField(_("class"), max_length=20, choices=EncounterClass.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.IN_PROGRESS)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    reason = models.CharField(_("reason for visit"), max_length=300, blank=True)
    attending = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("attending clinician"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="attending_encounters",
    )  # fmt: skip
    ward = models.ForeignKey(
        "scheduling.Ward", verbose_name=_("ward"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="encounters",
    )  # fmt: skip

    class Meta(BaseModel.Meta):
        verbose_name = _("encounter")
        verbose_name_plural = _("encounters")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-started_at"], name="emr_encounter_patient_idx"),
            models.Index(fields=["ward", "status"], name="emr_encounter_ward_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="emr_encounter_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="finished") | models.Q(ended_at__isnull=False),
                name="emr_encounter_finished_has_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_encounter_class_display()} {self.started_at:%Y-%m-%d} ({self.patient_id})"


class CareTeamMember(BaseModel):
    """A clinician who treats the patient in this encounter, and in what role."""

    class Role(models.TextChoices):
        ATTENDING = "attending", _("Attending")
        RESIDENT = "resident", _("Resident")
        NURSE = "nurse", _("Nurse")
        CONSULTANT = "consultant", _("Consultant")
        PHARMACIST = "pharmacist", _("Pharmacist")
        OTHER = "other", _("Other")

    encounter = models.ForeignKey(Encounter, on_delete=models.CASCADE, related_name="care_team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_team_memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta(BaseModel.Meta):
        verbose_name = _("care team member")
        verbose_name_plural = _("care team members")
        constraints = [models.UniqueConstraint(fields=["encounter", "user"], name="emr_care_team_unique_member")]


class BreakGlassAccess(BaseModel):
    """Emergency access to one patient outside the user's care teams: a stated reason, a time limit, a review.

    While `expires_at` is in the future the user can open the chart; every grant is flagged for review
    until an auditor records `reviewed_at`. Grants are never deleted.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass_grants")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="break_glass_grants")
    reason = models.TextField(_("reason"))
    expires_at = models.DateTimeField(_("expires at"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.TextField(_("review note"), blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("break-the-glass access")
        verbose_name_plural = _("break-the-glass accesses")
        indexes = [models.Index(fields=["user", "patient", "expires_at"], name="emr_break_glass_active_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(expires_at__gt=models.F("created_at")), name="emr_bg_expiry"),
            models.CheckConstraint(condition=~models.Q(reason=""), name="emr_bg_reason_required"),
        ]
