"""Scribe jobs: a recorded (or typed) consultation, its transcript, and the fields suggested from it.

A job is created for an encounter by a clinician, runs on the `ai` queue (queued -> transcribing ->
extracting -> ready, or failed with a reason a clinician understands), and ends as suggestions the
clinician accepts, edits or rejects. What the model suggested and what the clinician decided are both
kept on the suggestion row; accepted items go into a draft ClinicalNote that the clinician signs in the
EMR. Nothing here is ever signed automatically.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ai.scribe.engine.types import FIELDS
from emr.models import ClinicalNote, Encounter, Patient
from hospital.core.models import BaseModel


class ScribeJob(BaseModel):
    """One consultation to transcribe and structure.

    The recording itself is not in the database: `audio_path` names an AES-256-GCM encrypted file under
    SCRIBE_AUDIO_DIR (ai.scribe.storage), bound to this row's external_id; its SHA-256, size and duration
    stay after the file is deleted at the end of the retention period (`audio_deleted_at`).

    Running state: `attempt` counts claims by a worker. A worker writes progress and results only while
    the row still carries its own attempt number, so a delivery of the task that took over from a dead
    worker is the only one whose results land (exactly one set of suggestions). Results are written in
    one transaction together with status "ready".
    """

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        CHINESE = "zh", _("Chinese")

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Uploaded file")
        RECORDING = "recording", _("Recorded in the browser")
        TRANSCRIPT = "transcript", _("Ready transcript")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        TRANSCRIBING = "transcribing", _("Transcribing")
        EXTRACTING = "extracting", _("Extracting")
        READY = "ready", _("Ready for review")
        FAILED = "failed", _("Failed")

    RUNNING = (Status.TRANSCRIBING, Status.EXTRACTING)
    FINISHED = (Status.READY, Status.FAILED)

    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="scribe_jobs")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="scribe_jobs")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="scribe_jobs")
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.ENGLISH)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    failure_code = models.CharField(_("failure code"), max_length=20, blank=True)
    failure_reason = models.TextField(_("failure reason"), blank=True)

    audio_path = models.CharField(_("encrypted audio file"), max_length=200, blank=True)
    audio_sha256 = models.CharField(_("audio SHA-256"), max_length=64, blank=True)
    audio_bytes = models.PositiveBigIntegerField(_("audio size (bytes)"), null=True, blank=True)
    audio_content_type = models.CharField(_("audio content type"), max_length=100, blank=True)
    audio_duration_s = models.FloatField(_("audio duration (s)"), null=True, blank=True)
    audio_deleted_at = models.DateTimeField(_("audio deleted at"), null=True, blank=True)

    transcript_text = models.TextField(_("transcript"), blank=True)
    transcript_segments = models.JSONField(_("transcript segments"), default=list, blank=True)
    transcript_dropped = models.JSONField(_("segments dropped as hallucinations"), default=list, blank=True)
    hotwords = models.TextField(_("vocabulary hints"), blank=True)
    asr_model_name = models.CharField(_("speech model"), max_length=200, blank=True)
    asr_model_version = models.CharField(_("speech model version"), max_length=100, blank=True)
    extraction_models = models.CharField(_("extraction models"), max_length=300, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    summary_model = models.CharField(_("summary model"), max_length=200, blank=True)
    timings = models.JSONField(_("timings (s)"), default=dict, blank=True)

    note = models.ForeignKey(
        ClinicalNote, verbose_name=_("draft note"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="scribe_jobs",
    )  # fmt: skip

    attempt = models.PositiveIntegerField(_("attempt"), default=0)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("scribe job")
        verbose_name_plural = _("scribe jobs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["encounter", "-created_at"], name="scribe_job_encounter_idx"),
            models.Index(fields=["clinician", "-created_at"], name="scribe_job_clinician_idx"),
            models.Index(
                fields=["created_at"],
                name="scribe_job_audio_kept_idx",
                condition=models.Q(audio_deleted_at__isnull=True) & ~models.Q(audio_path=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(language__in=["en", "zh"]), name="scribe_job_language"),
            models.CheckConstraint(
                condition=models.Q(source__in=["upload", "recording", "transcript"]), name="scribe_job_source"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "transcribing", "extracting", "ready", "failed"]),
                name="scribe_job_status",
            ),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="scribe_job_progress_range"),
            # Failed <=> a reason to show; only a failed job has one.
            models.CheckConstraint(
                condition=(models.Q(status="failed") & ~models.Q(failure_reason="") & ~models.Q(failure_code=""))
                | (~models.Q(status="failed") & models.Q(failure_reason="", failure_code="")),
                name="scribe_job_failure_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="ready") | models.Q(progress=100, finished_at__isnull=False),
                name="scribe_job_ready_complete",
            ),
            # A recording always has its fingerprint (kept after the file is purged); a transcript has no audio.
            models.CheckConstraint(
                condition=(models.Q(source="transcript") & models.Q(audio_path="", audio_sha256=""))
                | (~models.Q(source="transcript") & models.Q(audio_sha256__regex=r"^[0-9a-f]{64}$")),
                name="scribe_job_audio_fingerprint",
            ),
            models.CheckConstraint(
                condition=models.Q(audio_deleted_at__isnull=True) | models.Q(audio_path=""),
                name="scribe_job_audio_deleted_no_path",
            ),
        ]

    def __str__(self) -> str:
        return f"Scribe job {self.external_id} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.QUEUED, *self.RUNNING)

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_path)


class ScribeSuggestion(BaseModel):
    """One suggested item of the record, as the model gave it, and the clinician's decision about it.

    The model's side (field, text, value, span, confidence, flags, model name and version) is written
    once by the worker and never changed. The clinician's side: `decision` (pending, accepted, edited,
    rejected), `edited_text` for an edit, `chosen_code` (the ICD-10 code picked among a diagnosis's
    candidates), who decided and when. An accepted vital sign becomes Observations (`observation_set_id`);
    `filled_at` says when the item went into the draft note.
    """

    class Decision(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        EDITED = "edited", _("Edited")
        REJECTED = "rejected", _("Rejected")

    FIELD_CHOICES = [
        ("chief_complaint", _("Chief complaint")),
        ("history_present_illness", _("History of present illness")),
        ("past_history", _("Past history")),
        ("family_history", _("Family history")),
        ("medication", _("Medication")),
        ("allergy", _("Allergy")),
        ("vital_sign", _("Vital sign")),
        ("examination", _("Examination")),
        ("assessment", _("Assessment")),
        ("diagnosis", _("Diagnosis")),
        ("plan", _("Plan")),
    ]
    KEPT = (Decision.ACCEPTED, Decision.EDITED)

    job = models.ForeignKey(ScribeJob, on_delete=models.CASCADE, related_name="suggestions")
    position = models.PositiveIntegerField(_("position"))
    # "field" would shadow nothing on the model, but reads badly next to Django's own Field: keep the column name.
    field_name = models.CharField(_("field"), max_length=30, choices=FIELD_CHOICES, db_column="field")
    text = models.TextField(_("suggested text"))
    value = models.JSONField(_("suggested value"), default=dict, blank=True)
    span_start = models.PositiveIntegerField(_("source span start"))
    span_end = models.PositiveIntegerField(_("source span end"))
    confidence = models.DecimalField(_("confidence"), max_digits=4, decimal_places=3)
    negated = models.BooleanField(_("negated"), default=False)
    uncertain = models.BooleanField(_("uncertain"), default=False)
    family = models.BooleanField(_("family history"), default=False)
    model_name = models.CharField(_("model name"), max_length=200)
    model_version = models.CharField(_("model version"), max_length=100, blank=True)

    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    edited_text = models.TextField(_("edited text"), blank=True)
    chosen_code = models.CharField(_("chosen ICD-10 code"), max_length=16, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    observation_set_id = models.UUIDField(_("observation set"), null=True, blank=True)
    filled_at = models.DateTimeField(_("filled into the note at"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("scribe suggestion")
        verbose_name_plural = _("scribe suggestions")
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="scribe_suggestion_position_unique"),
            models.CheckConstraint(condition=models.Q(field_name__in=list(FIELDS)), name="scribe_suggestion_field"),
            models.CheckConstraint(
                condition=models.Q(decision__in=["pending", "accepted", "edited", "rejected"]),
                name="scribe_suggestion_decision",
            ),
            models.CheckConstraint(
                condition=models.Q(confidence__gte=0, confidence__lte=1), name="scribe_suggestion_confidence_range"
            ),
            models.CheckConstraint(
                condition=models.Q(span_end__gte=models.F("span_start")), name="scribe_suggestion_span_order"
            ),
            models.CheckConstraint(condition=~models.Q(model_name=""), name="scribe_suggestion_model_named"),
            # Pending <=> nobody decided yet; an edit carries the clinician's text.
            models.CheckConstraint(
                condition=(models.Q(decision="pending", decided_by__isnull=True, decided_at__isnull=True))
                | (~models.Q(decision="pending") & models.Q(decided_by__isnull=False, decided_at__isnull=False)),
                name="scribe_suggestion_decided_by",
            ),
            models.CheckConstraint(
                condition=~models.Q(decision="edited") | ~models.Q(edited_text=""), name="scribe_suggestion_edit_text"
            ),
            models.CheckConstraint(
                condition=models.Q(filled_at__isnull=True) | models.Q(decision__in=["accepted", "edited"]),
                name="scribe_suggestion_filled_kept",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field_name}: {self.text[:60]}"

    @property
    def final_text(self) -> str:
        """What goes into the note: the clinician's edit, else the model's text."""
        return self.edited_text if self.decision == self.Decision.EDITED else self.text

    @property
    def is_kept(self) -> bool:
        return self.decision in self.KEPT
