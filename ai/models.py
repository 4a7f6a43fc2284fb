"""Alerts evaluated as clinical data arrives: NEWS2 scores of vital-sign sets and critical laboratory values."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ai import news2
from emr.models import Encounter, Patient
from hospital.core.models import BaseModel
from scheduling.models import Ward


class News2Score(BaseModel):
    """The NEWS2 score of one set of vital signs (emr Observation rows sharing `set_id`).

    One row per set, written by ai.services.news2_evaluate whenever the set is evaluated (idempotent).
    `parameter_scores` maps each NEWS2 parameter present in the set to {"value": text, "score": points}.
    An incomplete set (any of the seven parameters missing) has `complete` False, no total and no risk,
    and names the absent parameters in `missing_parameters`: it is never scored as normal.
    """

    class Risk(models.TextChoices):
        LOW = news2.RISK_LOW, _("Low")
        LOW_MEDIUM = news2.RISK_LOW_MEDIUM, _("Low-medium (3 in one parameter)")
        MEDIUM = news2.RISK_MEDIUM, _("Medium")
        HIGH = news2.RISK_HIGH, _("High")

    class Scale(models.IntegerChoices):
        SCALE_1 = news2.SCALE_1, _("SpO2 scale 1")
        SCALE_2 = news2.SCALE_2, _("SpO2 scale 2 (hypercapnic respiratory failure)")

    set_id = models.UUIDField(_("vital-sign set"), unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="news2_scores")
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="news2_scores"
    )
    ward = models.ForeignKey(Ward, null=True, blank=True, on_delete=models.PROTECT, related_name="news2_scores")
    taken_at = models.DateTimeField(_("taken at"))
    total = models.PositiveSmallIntegerField(_("total score"), null=True, blank=True)
    parameter_scores = models.JSONField(_("parameter scores"), default=dict, blank=True)
    complete = models.BooleanField(_("complete"))
    missing_parameters = models.JSONField(_("missing parameters"), default=list, blank=True)
    spo2_scale = models.PositiveSmallIntegerField(_("SpO2 scale"), choices=Scale.choices, default=Scale.SCALE_1)
    risk = models.CharField(_("clinical risk"), max_length=12, choices=Risk.choices, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("NEWS2 score")
        verbose_name_plural = _("NEWS2 scores")
        indexes = [
            models.Index(fields=["patient", "-taken_at"], name="ai_news2_patient_idx"),
            models.Index(fields=["ward", "-taken_at"], name="ai_news2_ward_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(spo2_scale__in=[1, 2]), name="ai_news2_scale"),
            models.CheckConstraint(
                condition=models.Q(total__isnull=True) | models.Q(total__lte=news2.MAX_TOTAL), name="ai_news2_total"
            ),
            # Complete <=> a total and a risk; incomplete <=> neither (never a total that looks normal).
            models.CheckConstraint(
                condition=(models.Q(complete=True, total__isnull=False) & ~models.Q(risk=""))
                | models.Q(complete=False, total__isnull=True, risk=""),
                name="ai_news2_complete_has_total",
            ),
        ]

    def __str__(self) -> str:
        return f"NEWS2 {self.total if self.complete else '?'} ({self.set_id})"


class Spo2Scale2Order(BaseModel):
    """A clinician's decision that the patient has hypercapnic respiratory failure, so NEWS2 scores SpO2 on
    scale 2 (target 88-92 %). While the row exists every vital-sign set of the patient is scored on scale 2;
    the RCP asks that this be a recorded decision by a competent clinician, never a default."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="spo2_scale2_order")
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))

    class Meta(BaseModel.Meta):
        verbose_name = _("SpO2 scale 2 order")
        verbose_name_plural = _("SpO2 scale 2 orders")
        constraints = [models.CheckConstraint(condition=~models.Q(reason=""), name="ai_spo2_scale2_reason")]

    def __str__(self) -> str:
        return f"SpO2 scale 2 ({self.patient_id})"


class Alert(BaseModel):
    """A warning for the clinicians of a patient's ward and care team, raised by an evaluation task.

    `source_id` is the external id of what raised it (the NEWS2 score or the laboratory observation);
    (kind, source_id) is unique, so evaluating the same data again never raises a second alert.
    `detail` holds what the page shows (the NEWS2 parameters, or the test, value and limit).
    """

    class Kind(models.TextChoices):
        NEWS2 = "news2", _("NEWS2")
        CRITICAL_LAB = "critical_lab", _("Critical laboratory value")

    class Severity(models.TextChoices):
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        CRITICAL = "critical", _("Critical")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="alerts")
    encounter = models.ForeignKey(Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts")
    ward = models.ForeignKey(Ward, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts")
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    title = models.CharField(_("title"), max_length=200)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    source_id = models.UUIDField(_("source"))
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes = [
            models.Index(fields=["status", "ward"], name="ai_alert_status_ward_idx"),
            models.Index(fields=["patient", "status"], name="ai_alert_patient_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["kind", "source_id"], name="ai_alert_unique_source"),
            models.CheckConstraint(condition=models.Q(kind__in=["news2", "critical_lab"]), name="ai_alert_kind"),
            models.CheckConstraint(
                condition=models.Q(severity__in=["medium", "high", "critical"]), name="ai_alert_severity"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "acknowledged", "resolved"]), name="ai_alert_status"
            ),
            # An open alert has not been acknowledged; an acknowledged one says by whom and when.
            models.CheckConstraint(
                condition=models.Q(status="open", acknowledged_by__isnull=True, acknowledged_at__isnull=True)
                | models.Q(status="acknowledged", acknowledged_by__isnull=False, acknowledged_at__isnull=False)
                | models.Q(status="resolved"),
                name="ai_alert_acknowledgement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.severity} {self.title}"
