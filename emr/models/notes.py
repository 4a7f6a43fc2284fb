"""Structured clinical notes: typed fields, coded diagnoses, per-field provenance, versions."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

from emr.models.encounters import Encounter
from emr.models.patients import Patient
from emr.models.terminology import Icd10Code
from hospital.core.models import BaseModel

if TYPE_CHECKING:
    from emr.models.observations import Observation


class ClinicalNote(BaseModel):
    """One version of a structured note. Draft -> signed; a signed version never changes.

    The database refuses UPDATE and DELETE of a signed note and any change to the diagnoses and
    provenance of a signed note (triggers in the migration). An amendment is a new row of the same
    `thread`, with `version` + 1 and `amends` pointing at the version it corrects; the newest signed
    version of a thread is the current one. Vital signs taken with the note are Observations whose
    `note` is this row.
    """

    class NoteType(models.TextChoices):
        OUTPATIENT = "outpatient", _("Outpatient note")
        ADMISSION = "admission", _("Admission note")
        PROGRESS = "progress", _("Progress note")
        CONSULTATION = "consultation", _("Consultation note")
        DISCHARGE = "discharge", _("Discharge summary")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SIGNED = "signed", _("Signed")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="notes")
    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_notes")
    note_type = models.CharField(_("type"), max_length=20, choices=NoteType.choices, default=NoteType.PROGRESS)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    thread = models.UUIDField(_("note thread"), db_index=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    amends = models.OneToOneField(
        "self", verbose_name=_("amends"), null=True, blank=True, on_delete=models.PROTECT, related_name="amended_by"
    )
    amendment_reason = models.TextField(_("amendment reason"), blank=True)

    chief_complaint = models.TextField(_("chief complaint"), blank=True)
    history_present_illness = models.TextField(_("history of present illness"), blank=True)
    past_history = models.TextField(_("past history"), blank=True)
    current_medications = models.TextField(_("current medications"), blank=True)
    allergies = models.TextField(_("allergies"), blank=True)
    examination = models.TextField(_("examination"), blank=True)
    assessment = models.TextField(_("assessment"), blank=True)
    plan = models.TextField(_("plan"), blank=True)

    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="signed_notes"
    )
    search_vector = SearchVectorField(null=True, editable=False)

    TEXT_FIELDS = (
        "chief_complaint",
        "history_present_illness",
        "past_history",
        "current_medications",
        "allergies",
        "examination",
        "assessment",
        "plan",
    )

    # Not stored: the note editor (emr.views.notes.note_edit) sets it, the vital signs recorded with the draft.
    vitals_recorded: "list[Observation]"

    class Meta(BaseModel.Meta):
        verbose_name = _("clinical note")
        verbose_name_plural = _("clinical notes")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-created_at"], name="emr_note_patient_idx"),
            GinIndex(fields=["search_vector"], name="emr_note_search_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["thread", "version"], name="emr_note_thread_version_unique"),
            models.CheckConstraint(
                condition=models.Q(status="draft", signed_at__isnull=True, signed_by__isnull=True)
                | models.Q(status="signed", signed_at__isnull=False, signed_by__isnull=False),
                name="emr_note_signature_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(version=1, amends__isnull=True)
                | models.Q(version__gt=1, amends__isnull=False) & ~models.Q(amendment_reason=""),
                name="emr_note_amendment_linked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_note_type_display()} v{self.version} ({self.get_status_display()})"


class NoteDiagnosis(BaseModel):
    """A coded diagnosis of a note's assessment (rank 1 is the principal diagnosis)."""

    class Certainty(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        PROVISIONAL = "provisional", _("Provisional")
        DIFFERENTIAL = "differential", _("Differential")

    note = models.ForeignKey(ClinicalNote, on_delete=models.CASCADE, related_name="diagnoses")
    icd10 = models.ForeignKey(Icd10Code, verbose_name=_("ICD-10 code"), on_delete=models.PROTECT, related_name="+")
    rank = models.PositiveSmallIntegerField(_("rank"), default=1)
    certainty = models.CharField(_("certainty"), max_length=20, choices=Certainty.choices, default=Certainty.CONFIRMED)

    class Meta(BaseModel.Meta):
        verbose_name = _("note diagnosis")
        verbose_name_plural = _("note diagnoses")
        ordering = ["note", "rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["note", "icd10"], name="emr_note_diagnosis_unique_code"),
            models.CheckConstraint(condition=models.Q(rank__gte=1), name="emr_note_diagnosis_rank"),
        ]


class NoteFieldProvenance(BaseModel):
    """Where the content of one note field came from: typed, dictated, or suggested by a model.

    For model suggestions it keeps the model's name and version, its confidence and the span of the
    source text (transcript) that supports it, so a reviewer can see what the clinician changed.
    """

    class Source(models.TextChoices):
        TYPED = "typed", _("Typed")
        DICTATED = "dictated", _("Dictated")
        MODEL = "model", _("Suggested by a model")

    note = models.ForeignKey(ClinicalNote, on_delete=models.CASCADE, related_name="provenance")
    field_name = models.CharField(_("field"), max_length=40)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.TYPED)
    model_name = models.CharField(_("model name"), max_length=200, blank=True)
    model_version = models.CharField(_("model version"), max_length=100, blank=True)
    confidence = models.DecimalField(_("confidence"), max_digits=4, decimal_places=3, null=True, blank=True)
    span_start = models.PositiveIntegerField(_("source span start"), null=True, blank=True)
    span_end = models.PositiveIntegerField(_("source span end"), null=True, blank=True)
    source_text = models.TextField(_("source text"), blank=True)
    accepted = models.BooleanField(_("accepted by the clinician"), null=True, blank=True)
    edited = models.BooleanField(_("edited by the clinician"), default=False)

    class Meta(BaseModel.Meta):
        verbose_name = _("note field provenance")
        verbose_name_plural = _("note field provenance")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(field_name__in=ClinicalNote.TEXT_FIELDS + ("diagnoses", "vital_signs")),
                name="emr_provenance_known_field",
            ),
            models.CheckConstraint(
                condition=models.Q(confidence__isnull=True) | models.Q(confidence__gte=0, confidence__lte=1),
                name="emr_provenance_confidence_range",
            ),
            models.CheckConstraint(
                condition=models.Q(span_start__isnull=True, span_end__isnull=True)
                | models.Q(span_start__isnull=False, span_end__gte=models.F("span_start")),
                name="emr_provenance_span_order",
            ),
            models.CheckConstraint(
                condition=~models.Q(source="model") | ~models.Q(model_name=""), name="emr_provenance_model_named"
            ),
        ]
