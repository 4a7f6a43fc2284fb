"""Outpatient appointments: clinicians' slots, bookings, and the day's queue."""

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.db import models
from django.utils.translation import gettext_lazy as _

from hospital.core.models import BaseModel
from scheduling.models.wards import Department


class AppointmentSlot(BaseModel):
    """A bookable period of one clinician's clinic; a clinician's slots never overlap (exclusion constraint)."""

    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="slots")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="slots")
    period = DateTimeRangeField(_("period"))
    location = models.CharField(_("room"), max_length=60, blank=True)
    is_blocked = models.BooleanField(_("blocked"), default=False)

    class Meta(BaseModel.Meta):
        verbose_name = _("appointment slot")
        verbose_name_plural = _("appointment slots")
        constraints = [
            ExclusionConstraint(
                name="scheduling_slot_clinician_no_overlap",
                expressions=[("clinician", RangeOperators.EQUAL), ("period", RangeOperators.OVERLAPS)],
            ),
            models.CheckConstraint(
                condition=models.Q(period__startswith__isnull=False, period__endswith__isnull=False),
                name="scheduling_slot_bounded",
            ),
        ]


class Appointment(BaseModel):
    """A patient's booking of a slot, and its way through the day's queue (checked in, called, seen).

    A slot has at most one live booking (a partial unique constraint): cancelled and no-show bookings
    free it. A reschedule cancels this booking and books the new slot, linked by `rescheduled_from`.
    """

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CHECKED_IN = "checked_in", _("Checked in")
        CALLED = "called", _("Called")
        SEEN = "seen", _("Seen")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("Did not attend")

    LIVE_STATUSES = ("booked", "checked_in", "called", "seen")

    slot = models.ForeignKey(AppointmentSlot, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey("emr.Patient", on_delete=models.PROTECT, related_name="appointments")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.BOOKED)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    seen_at = models.DateTimeField(_("seen at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    rescheduled_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="rescheduled_to"
    )
    encounter = models.OneToOneField(
        "emr.Encounter", null=True, blank=True, on_delete=models.PROTECT, related_name="appointment"
    )

    class Meta(BaseModel.Meta):
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            models.UniqueConstraint(
                fields=["slot"],
                condition=models.Q(status__in=["booked", "checked_in", "called", "seen"]),
                name="scheduling_appointment_one_live_per_slot",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="cancelled") | models.Q(cancelled_at__isnull=False),
                name="scheduling_appointment_cancel_time",
            ),
        ]
