"""Input and output shapes of the scribe's API. Validation only: no business logic here."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ai.scribe.models import ScribeJob, ScribeSuggestion

TURN_MAX = 20000
EDIT_MAX = 4000

SPEAKER_CHOICES = [("doctor", "Doctor"), ("patient", "Patient"), ("unknown", "Unknown")]
RECORDING_SOURCES = [
    (ScribeJob.Source.UPLOAD, "Uploaded file"),
    (ScribeJob.Source.RECORDING, "Recorded in the browser"),
]


class ScribeUserRefSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    username = serializers.CharField()
    display_name = serializers.CharField(source="__str__")


class ScribeSegmentOutputSerializer(serializers.Serializer):
    start = serializers.FloatField(help_text="Seconds from the start of the recording (0 for a typed transcript).")
    end = serializers.FloatField()
    text = serializers.CharField()
    speaker = serializers.ChoiceField(choices=SPEAKER_CHOICES)
    char_start = serializers.IntegerField(help_text="Offset of this segment in the transcript text.")
    char_end = serializers.IntegerField()


class ScribeCandidateSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    confidence = serializers.FloatField()


class ScribeSuggestionOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    field = serializers.ChoiceField(source="field_name", choices=ScribeSuggestion.FIELD_CHOICES)
    text = serializers.CharField(help_text="The item as the model suggests it for the note.")
    value = serializers.JSONField(
        help_text="Structured value by field: medication {name, drug_code, dose, unit, route, frequency}; allergy "
        "{substance, reaction}; vital_sign {kind, value, unit}; diagnosis {code, title, candidates (top 3)}."
    )
    span_start = serializers.IntegerField(help_text="Start of the supporting text in the transcript.")
    span_end = serializers.IntegerField()
    source_text = serializers.SerializerMethodField(help_text="The transcript's words that support the item.")
    confidence = serializers.DecimalField(max_digits=4, decimal_places=3)
    negated = serializers.BooleanField()
    uncertain = serializers.BooleanField()
    family = serializers.BooleanField(help_text="About a relative, not the patient.")
    model_name = serializers.CharField()
    model_version = serializers.CharField()
    decision = serializers.ChoiceField(choices=ScribeSuggestion.Decision.choices)
    edited_text = serializers.CharField()
    chosen_code = serializers.CharField(help_text="The ICD-10 code the clinician picked for a diagnosis.")
    decided_by = ScribeUserRefSerializer(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    observation_set = serializers.UUIDField(source="observation_set_id", allow_null=True)
    filled_at = serializers.DateTimeField(allow_null=True, help_text="When the item went into the draft note.")

    @extend_schema_field(serializers.CharField())
    def get_source_text(self, suggestion: ScribeSuggestion) -> str:
        transcript = self.context.get("transcript", "")
        return transcript[suggestion.span_start : suggestion.span_end]


class ScribeAudioOutputSerializer(serializers.Serializer):
    sha256 = serializers.CharField(source="audio_sha256")
    bytes = serializers.IntegerField(source="audio_bytes", allow_null=True)
    content_type = serializers.CharField(source="audio_content_type")
    duration_s = serializers.FloatField(source="audio_duration_s", allow_null=True)
    stored = serializers.BooleanField(source="has_audio", help_text="False once the retention period deleted it.")
    deleted_at = serializers.DateTimeField(source="audio_deleted_at", allow_null=True)


class ScribeJobStatusOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ScribeJob.Status.choices)
    progress = serializers.IntegerField(help_text="Percent of the current stage (transcribing), 100 when ready.")
    failure_code = serializers.CharField(
        help_text="not_audio, empty, silent, corrupt, too_large, too_long, no_speech, unreadable, audio_missing, "
        "timeout or internal; empty unless failed."
    )
    failure_reason = serializers.CharField(help_text="Why it failed, in words for a clinician.")


class ScribeJobOutputSerializer(ScribeJobStatusOutputSerializer):
    encounter = serializers.UUIDField(source="encounter.external_id")
    patient = serializers.UUIDField(source="patient.external_id")
    clinician = ScribeUserRefSerializer()
    language = serializers.ChoiceField(choices=ScribeJob.Language.choices)
    # The metaclass turns this into a declared field; the stubs see it as overriding Field.source.
    source = serializers.ChoiceField(choices=ScribeJob.Source.choices)  # type: ignore[assignment]
    audio = ScribeAudioOutputSerializer(source="*", allow_null=True)
    transcript = serializers.CharField(source="transcript_text")
    segments = ScribeSegmentOutputSerializer(many=True, source="transcript_segments")
    dropped_segments = serializers.ListField(
        child=serializers.CharField(), source="transcript_dropped", help_text="Removed as likely hallucinations."
    )
    asr_model = serializers.CharField(source="asr_model_name")
    asr_model_version = serializers.CharField()
    extraction_models = serializers.CharField()
    summary = serializers.CharField()
    summary_model = serializers.CharField()
    suggestions = serializers.SerializerMethodField()
    note = serializers.UUIDField(source="note.external_id", allow_null=True, default=None)
    timings = serializers.DictField(child=serializers.FloatField(), help_text="Seconds per stage.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(ScribeSuggestionOutputSerializer(many=True))
    def get_suggestions(self, job: ScribeJob) -> list:
        rows = self.context.get("suggestions", [])
        return list(ScribeSuggestionOutputSerializer(rows, many=True, context={"transcript": job.transcript_text}).data)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.source == ScribeJob.Source.TRANSCRIPT:
            data["audio"] = None
        return data


class ScribeJobCreatedOutputSerializer(ScribeJobStatusOutputSerializer):
    url = serializers.CharField(help_text="Where to follow the job (GET).")


class ScribeAudioJobInputSerializer(serializers.Serializer):
    encounter = serializers.UUIDField(help_text="External id of the encounter the consultation belongs to.")
    language = serializers.ChoiceField(choices=ScribeJob.Language.choices, default="en")
    source = serializers.ChoiceField(choices=RECORDING_SOURCES, default=ScribeJob.Source.UPLOAD)  # type: ignore[assignment]
    audio = serializers.FileField(
        allow_empty_file=True,
        help_text="The recording (WAV, MP3, OGG, WebM, M4A...). Its size is limited by SCRIBE_MAX_UPLOAD_MB.",
    )


class ScribeTurnInputSerializer(serializers.Serializer):
    speaker = serializers.ChoiceField(choices=SPEAKER_CHOICES)
    text = serializers.CharField(max_length=TURN_MAX, allow_blank=True, trim_whitespace=False)


class ScribeTranscriptJobInputSerializer(serializers.Serializer):
    encounter = serializers.UUIDField(help_text="External id of the encounter the consultation belongs to.")
    language = serializers.ChoiceField(choices=ScribeJob.Language.choices, default="en")
    turns = ScribeTurnInputSerializer(many=True, required=False, help_text="The dialogue, one entry per turn.")
    text = serializers.CharField(
        required=False,
        trim_whitespace=False,
        help_text='Or plain text; lines starting "Doctor:" or "Patient:" begin a turn of that speaker.',
    )

    def validate(self, attrs):
        if ("turns" in attrs) == ("text" in attrs):
            raise serializers.ValidationError({"turns": ["Give the transcript as turns or as text, not both."]})
        return attrs


class ScribeDecisionInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=ScribeSuggestion.Decision.choices,
        help_text="accepted, edited (with text), rejected, or pending to undo.",
    )
    text = serializers.CharField(
        required=False, allow_blank=True, max_length=EDIT_MAX, help_text="The corrected text (for an edit)."
    )
    code = serializers.CharField(
        required=False, allow_blank=True, max_length=16, help_text="For a diagnosis: the ICD-10 code picked."
    )


class ScribeFillOutputSerializer(serializers.Serializer):
    note = serializers.UUIDField(help_text="The draft note, to sign in the EMR.")
    filled = serializers.IntegerField(help_text="Items put into the note by this call.")
