"""Bed occupancy and its one source of truth: bed stays. Plus blocks, cleaning, bed requests and ADT events.

Whether a bed is occupied, free, being cleaned or blocked is DERIVED (scheduling.selectors.beds) from
these rows, never stored on the bed: an occupied bed is one with a stay whose period contains now; a
bed being cleaned has an open BedCleaning; a blocked bed has a block whose period contains now.
"""

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.db import models
from django.utils.translation import gettext_lazy as _

from hospital.core.models import BaseModel
from scheduling.models.wards import Bed, Specialty, Ward


class Room(BaseModel):
    """A room of a ward; beds may belong to one (sex policy of a shared room, isolation rooms)."""

    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="rooms")
    code = models.CharField(_("code"), max_length=20)
    sex_policy = models.CharField(
        _("sex policy"), max_length=10, choices=Ward.SexPolicy.choices, default=Ward.SexPolicy.MIXED
    )
    is_isolation = models.BooleanField(_("isolation room"), default=False)

    class Meta(BaseModel.Meta):
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        constraints = [models.UniqueConstraint(fields=["ward", "code"], name="scheduling_room_code_unique_in_ward")]

    def __str__(self) -> str:
        return f"{self.ward.code}/{self.code}"


class BedStay(BaseModel):
    """One patient (encounter) in one bed for a time range [start, end); end is open while they lie there.

    Two exclusion constraints make the impossible impossible: no two stays of one bed overlap, and no
    encounter is in two beds at once. Admission opens a stay; a transfer ends one and opens the next in
    the same transaction; discharge ends the last.
    """

    class EndReason(models.TextChoices):
        DISCHARGE = "discharge", _("Discharge")
        TRANSFER = "transfer", _("Transfer")
        DEATH = "death", _("Death")
        ENTERED_IN_ERROR = "entered_in_error", _("Entered in error")

    bed = models.ForeignKey(Bed, verbose_name=_("bed"), on_delete=models.PROTECT, related_name="stays")
    encounter = models.ForeignKey(
        "emr.Encounter", verbose_name=_("encounter"), on_delete=models.PROTECT, related_name="bed_stays"
    )
    period = DateTimeRangeField(_("period"))
    expected_discharge_on = models.DateField(_("expected discharge"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=20, choices=EndReason.choices, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(BaseModel.Meta):
        verbose_name = _("bed stay")
        verbose_name_plural = _("bed stays")
        constraints = [
            ExclusionConstraint(
                name="scheduling_bedstay_bed_no_overlap",
                expressions=[("bed", RangeOperators.EQUAL), ("period", RangeOperators.OVERLAPS)],
            ),
            ExclusionConstraint(
                name="scheduling_bedstay_encounter_one_bed",
                expressions=[("encounter", RangeOperators.EQUAL), ("period", RangeOperators.OVERLAPS)],
            ),
            models.CheckConstraint(
                condition=models.Q(period__startswith__isnull=False, period__isempty=False),
                name="scheduling_bedstay_period_starts",
            ),
            models.CheckConstraint(
                condition=models.Q(period__endswith__isnull=True, end_reason="")
                | models.Q(period__endswith__isnull=False) & ~models.Q(end_reason=""),
                name="scheduling_bedstay_end_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bed} {self.period}"


class BedBlock(BaseModel):
    """A bed taken out of use for a time (maintenance, infection control, staffing), with a reason."""

    bed = models.ForeignKey(Bed, on_delete=models.PROTECT, related_name="blocks")
    period = DateTimeRangeField(_("period"))
    reason = models.CharField(_("reason"), max_length=300)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta(BaseModel.Meta):
        verbose_name = _("bed block")
        verbose_name_plural = _("bed blocks")
        constraints = [
            ExclusionConstraint(
                name="scheduling_bedblock_no_overlap",
                expressions=[("bed", RangeOperators.EQUAL), ("period", RangeOperators.OVERLAPS)],
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="scheduling_bedblock_reason"),
            models.CheckConstraint(
                condition=models.Q(period__startswith__isnull=False, period__isempty=False),
                name="scheduling_bedblock_period_starts",
            ),
        ]


class BedCleaning(BaseModel):
    """Housekeeping after a stay ends: the bed is "cleaning" from `requested_at` until `completed_at`."""

    bed = models.ForeignKey(Bed, on_delete=models.PROTECT, related_name="cleanings")
    stay = models.OneToOneField(BedStay, null=True, blank=True, on_delete=models.PROTECT, related_name="cleaning")
    requested_at = models.DateTimeField(_("requested at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(BaseModel.Meta):
        verbose_name = _("bed cleaning")
        verbose_name_plural = _("bed cleanings")
        constraints = [
            models.UniqueConstraint(
                fields=["bed"], condition=models.Q(completed_at__isnull=True), name="scheduling_cleaning_one_open"
            ),
            models.CheckConstraint(
                condition=models.Q(completed_at__isnull=True) | models.Q(completed_at__gte=models.F("requested_at")),
                name="scheduling_cleaning_completed_after_request",
            ),
        ]


class BedRequest(BaseModel):
    """A patient waiting for a bed (from emergency, outpatients, an elective list), with what the bed must offer."""

    class Source(models.TextChoices):
        EMERGENCY = "emergency", _("Emergency department")
        OUTPATIENT = "outpatient", _("Outpatient clinic")
        ELECTIVE = "elective", _("Elective list")
        TRANSFER = "transfer", _("Transfer")

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        ASSIGNED = "assigned", _("Assigned")
        CANCELLED = "cancelled", _("Cancelled")

    patient = models.ForeignKey("emr.Patient", on_delete=models.PROTECT, related_name="bed_requests")
    encounter = models.ForeignKey(
        "emr.Encounter", null=True, blank=True, on_delete=models.PROTECT, related_name="bed_requests"
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), default=3, help_text=_("1 = most urgent, 5 = routine."))
    specialty = models.CharField(_("specialty"), max_length=40, choices=Specialty.choices)
    needs_isolation = models.BooleanField(_("needs isolation"), default=False)
    nursing_level = models.CharField(
        _("nursing level"), max_length=20, choices=Ward.NursingLevel.choices, default=Ward.NursingLevel.STANDARD
    )
    needed_from = models.DateTimeField(_("needed from"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.WAITING)
    assigned_stay = models.OneToOneField(
        BedStay, null=True, blank=True, on_delete=models.PROTECT, related_name="request"
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta(BaseModel.Meta):
        verbose_name = _("bed request")
        verbose_name_plural = _("bed requests")
        ordering = ["priority", "needed_from", "id"]
        indexes = [models.Index(fields=["status", "priority", "needed_from"], name="scheduling_request_queue_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(priority__gte=1, priority__lte=5), name="scheduling_req_prio"),
            models.CheckConstraint(
                condition=~models.Q(status="assigned") | models.Q(assigned_stay__isnull=False),
                name="scheduling_request_assigned_has_stay",
            ),
            models.UniqueConstraint(
                fields=["patient"], condition=models.Q(status="waiting"), name="scheduling_request_one_waiting"
            ),
        ]


class AdtEvent(BaseModel):
    """An admit, transfer or discharge as it happened: the feed that interfaces send out (HL7 v2 ADT, FHIR).

    Written by the ADT services in the same transaction as the bed stays; `dispatched_at` is set by
    the interface that sends it.
    """

    class EventType(models.TextChoices):
        ADMIT = "admit", _("Admit")
        TRANSFER = "transfer", _("Transfer")
        DISCHARGE = "discharge", _("Discharge")

    event_type = models.CharField(_("event"), max_length=20, choices=EventType.choices)
    encounter = models.ForeignKey("emr.Encounter", on_delete=models.PROTECT, related_name="adt_events")
    patient = models.ForeignKey("emr.Patient", on_delete=models.PROTECT, related_name="adt_events")
    from_bed = models.ForeignKey(Bed, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_bed = models.ForeignKey(Bed, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField(_("occurred at"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("ADT event")
        verbose_name_plural = _("ADT events")
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["dispatched_at", "id"], name="scheduling_adt_outbox_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(event_type="admit") | models.Q(to_bed__isnull=False, from_bed__isnull=True),
                name="scheduling_adt_admit_beds",
            ),
            models.CheckConstraint(
                condition=~models.Q(event_type="transfer")
                | models.Q(to_bed__isnull=False, from_bed__isnull=False) & ~models.Q(to_bed=models.F("from_bed")),
                name="scheduling_adt_transfer_beds",
            ),
            models.CheckConstraint(
                condition=~models.Q(event_type="discharge") | models.Q(from_bed__isnull=False, to_bed__isnull=True),
                name="scheduling_adt_discharge_beds",
            ),
        ]
