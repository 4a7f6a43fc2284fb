"""Alerts evaluated as data arrives: NEWS2 scores of vital-sign sets, critical laboratory values, conflicting
readings, vital-sign drift and a census outside its forecast; the alert inbox and its history."""

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
    """A warning for the clinicians of a ward and of a patient's care team, raised by an evaluation task.

    `source_id` is the external id of what first raised it (the NEWS2 score, the laboratory or vital-sign
    observation, the census row); (kind, source_id) is unique, so evaluating the same data again never
    raises a second alert. `detail` holds what the page shows (the NEWS2 parameters, the test and limit,
    the two conflicting readings, the census and its interval, the drifting series).

    Repeats are merged rather than raised again: `dedup_key` names the condition (kind, patient or ward,
    and what is abnormal); while an alert with that key is open or acknowledged, or within the repeat window
    after it was resolved, a repeat adds one to `occurrences` and moves `last_seen_at` (at most one active
    alert per key, a partial unique constraint). A repeat at a higher severity is never suppressed. Every
    change is written to AlertEvent. Census alerts are about a ward and have no patient; every other
    kind is about a patient.
    """

    class Kind(models.TextChoices):
        NEWS2 = "news2", _("NEWS2")
        CRITICAL_LAB = "critical_lab", _("Critical laboratory value")
        CONFLICTING_DATA = "conflicting_data", _("Conflicting data")
        CENSUS = "census", _("Census outside the forecast")
        VITAL_DRIFT = "vital_drift", _("Vital-sign drift")

    class Severity(models.TextChoices):
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        CRITICAL = "critical", _("Critical")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    ACTIVE_STATUSES = (Status.OPEN, Status.ACKNOWLEDGED)
    WARD_KINDS = (Kind.CENSUS,)

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts")
    encounter = models.ForeignKey(Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts")
    ward = models.ForeignKey(Ward, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts")
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    title = models.CharField(_("title"), max_length=200)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    source_id = models.UUIDField(_("source"))
    dedup_key = models.CharField(_("condition key"), max_length=200)
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    first_seen_at = models.DateTimeField(_("first seen at"))
    last_seen_at = models.DateTimeField(_("last seen at"))
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_alerts"
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_note = models.TextField(_("resolution note"), blank=True)
    # What the resolution decided beyond the note (for conflicting data: the reading accepted and the one rejected).
    resolution = models.JSONField(_("resolution"), default=dict, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes = [
            models.Index(fields=["status", "ward"], name="ai_alert_status_ward_idx"),
            models.Index(fields=["patient", "status"], name="ai_alert_patient_status_idx"),
            models.Index(fields=["dedup_key", "-last_seen_at"], name="ai_alert_dedup_key_idx"),
            models.Index(fields=["assigned_to", "status"], name="ai_alert_assignee_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["kind", "source_id"], name="ai_alert_unique_source"),
            # One active (open or acknowledged) alert per condition: repeats are merged into it.
            models.UniqueConstraint(
                fields=["dedup_key"],
                condition=models.Q(status__in=["open", "acknowledged"]),
                name="ai_alert_one_active_per_condition",
            ),
            models.CheckConstraint(condition=~models.Q(dedup_key=""), name="ai_alert_dedup_key"),
            models.CheckConstraint(
                condition=models.Q(kind__in=["news2", "critical_lab", "conflicting_data", "census", "vital_drift"]),
                name="ai_alert_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(severity__in=["medium", "high", "critical"]), name="ai_alert_severity"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "acknowledged", "resolved"]), name="ai_alert_status"
            ),
            # A census alert is about a ward; every other alert is about a patient.
            models.CheckConstraint(
                condition=models.Q(kind="census", ward__isnull=False)
                | (~models.Q(kind="census") & models.Q(patient__isnull=False)),
                name="ai_alert_patient_or_ward",
            ),
            # An open alert has not been acknowledged; an acknowledged one says by whom and when.
            models.CheckConstraint(
                condition=models.Q(status="open", acknowledged_by__isnull=True, acknowledged_at__isnull=True)
                | models.Q(status="acknowledged", acknowledged_by__isnull=False, acknowledged_at__isnull=False)
                | models.Q(status="resolved"),
                name="ai_alert_acknowledgement",
            ),
            # A resolved alert says when and why; an unresolved one has no resolution.
            models.CheckConstraint(
                condition=(models.Q(status="resolved", resolved_at__isnull=False) & ~models.Q(resolution_note=""))
                | (
                    ~models.Q(status="resolved")
                    & models.Q(resolved_at__isnull=True, resolved_by__isnull=True, resolution_note="")
                ),
                name="ai_alert_resolution",
            ),
            models.CheckConstraint(
                condition=models.Q(assigned_to__isnull=True, assigned_at__isnull=True)
                | models.Q(assigned_to__isnull=False, assigned_at__isnull=False),
                name="ai_alert_assignment",
            ),
            models.CheckConstraint(
                condition=models.Q(occurrences__gte=1, last_seen_at__gte=models.F("first_seen_at")),
                name="ai_alert_occurrences",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.severity} {self.title}"


class AlertEvent(BaseModel):
    """One entry of an alert's history: raised, repeated (merged), escalated, acknowledged, assigned, resolved.

    Who (`actor`; none for the evaluation tasks), what (`action`, `note`, `detail`), when (`created_at`) and
    from which status to which. Rows are only ever added. A raise or repeat names its `source_id` (the data
    that triggered it), unique per alert, so a redelivered evaluation task never counts an occurrence twice.
    """

    class Action(models.TextChoices):
        RAISED = "raised", _("Raised")
        REPEATED = "repeated", _("Repeated")
        ESCALATED = "escalated", _("Escalated")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ASSIGNED = "assigned", _("Assigned")
        RESOLVED = "resolved", _("Resolved")

    SYSTEM_ACTIONS = (Action.RAISED, Action.REPEATED, Action.ESCALATED)

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("action"), max_length=15, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_status = models.CharField(_("from status"), max_length=15, choices=Alert.Status.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=15, choices=Alert.Status.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Alert.Severity.choices)
    note = models.TextField(_("note"), blank=True)
    source_id = models.UUIDField(_("source"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("alert event")
        verbose_name_plural = _("alert events")
        ordering = ["alert_id", "created_at", "id"]
        indexes = [models.Index(fields=["source_id"], name="ai_alertevent_source_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "source_id"],
                condition=models.Q(source_id__isnull=False),
                name="ai_alertevent_source_once",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    action__in=["raised", "repeated", "escalated", "acknowledged", "assigned", "resolved"]
                ),
                name="ai_alertevent_action",
            ),
            models.CheckConstraint(
                condition=models.Q(from_status__in=["", "open", "acknowledged", "resolved"])
                & models.Q(to_status__in=["open", "acknowledged", "resolved"]),
                name="ai_alertevent_statuses",
            ),
            models.CheckConstraint(
                condition=models.Q(severity__in=["medium", "high", "critical"]), name="ai_alertevent_severity"
            ),
            # What a person did names the person; a resolution gives its reason.
            models.CheckConstraint(
                condition=models.Q(action__in=["raised", "repeated", "escalated"]) | models.Q(actor__isnull=False),
                name="ai_alertevent_actor",
            ),
            models.CheckConstraint(
                condition=~models.Q(action="resolved") | ~models.Q(note=""), name="ai_alertevent_resolution_note"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.action} {self.created_at:%Y-%m-%d %H:%M}"
