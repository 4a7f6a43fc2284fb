"""The scribe's writes: jobs, the worker's fenced claim and result, the clinician's decisions, filling the note."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ai.scribe import services
from ai.scribe.engine import types
from ai.scribe.models import ScribeJob, ScribeSuggestion
from emr.models import ClinicalNote, NoteFieldProvenance, Observation
from emr.services.notes import note_sign
from hospital.core.models import AccessLog
from tests.ai.scribe.test_services_support import TURNS, outpatient_with_team, suggestion, transcript_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return outpatient_with_team()


def _result(job: ScribeJob) -> types.ScribeResult:
    text = job.transcript_text
    transcript = services.scribe_job_transcript(job)
    return types.ScribeResult(
        transcript=transcript,
        suggestions=[
            suggestion("chief_complaint", "Chest pain for two days", text, "chest pain for two days", confidence=0.92),
            suggestion(
                "medication",
                "aspirin 100 mg oral daily",
                text,
                "Aspirin 100 milligrams daily",
                value={"name": "aspirin", "dose": "100", "unit": "mg", "frequency": "daily"},
                model_version="1",
            ),
            suggestion("allergy", "penicillin", text, "allergic to penicillin", value={"substance": "penicillin"}),
            suggestion(
                "vital_sign",
                "Blood pressure 150/90 mmHg",
                text,
                "150 over 90",
                value={"kind": "blood_pressure", "value": "150/90", "unit": "mmHg"},
            ),
            suggestion(
                "diagnosis",
                "Angina pectoris",
                text,
                "chest pain",
                value={
                    "code": "I20.9",
                    "title": "Angina pectoris, unspecified",
                    "candidates": [
                        {"code": "I20.9", "title": "Angina pectoris, unspecified", "confidence": 0.6},
                        {"code": "R07.4", "title": "Chest pain, unspecified", "confidence": 0.3},
                        {"code": "I21.9", "title": "Acute myocardial infarction, unspecified", "confidence": 0.1},
                    ],
                },
                uncertain=True,
            ),
        ],  # fmt: skip
        summary="Chest pain for two days.",
        summary_model="rules",
        timings={"extract": 0.01},
    )


def _ready(job: ScribeJob) -> ScribeJob:
    claim = services.scribe_job_claim(job_id=job.pk, task_id="t-1")
    assert services.scribe_job_complete(claim=claim, result=_result(job))
    job.refresh_from_db()
    return job


# --- creating ---------------------------------------------------------------------------------------------


def test_a_ready_transcript_becomes_a_queued_job_with_speaker_turns(team, django_capture_on_commit_callbacks):
    doctor, _outsider, _nurse, patient, encounter = team
    with django_capture_on_commit_callbacks() as callbacks:
        job = transcript_job(encounter, doctor)
    assert len(callbacks) == 1  # the run task, enqueued once the job is committed
    assert job.status == "queued" and job.source == "transcript" and job.patient == patient
    assert [s["speaker"] for s in job.transcript_segments] == ["doctor", "patient", "doctor", "patient", "doctor"]
    first = job.transcript_segments[1]
    assert job.transcript_text[first["char_start"] : first["char_end"]] == TURNS[1][1]
    entry = AccessLog.objects.get(object_type="scribe.scribejob")
    assert (entry.action, entry.actor, entry.patient_external_id) == ("create", doctor, patient.external_id)


def test_plain_text_with_speaker_prefixes_is_split_into_turns():
    turns = services.transcript_turns_from_text("Doctor: How are you?\nPatient: Chest pain\nsince Monday.\n医生：好的")
    assert turns == [("doctor", "How are you?"), ("patient", "Chest pain since Monday."), ("doctor", "好的")]
    assert services.transcript_turns_from_text("just words") == [("unknown", "just words")]


def test_bad_transcripts_write_nothing(team):
    doctor, *_rest, encounter = team
    with pytest.raises(ValidationError) as empty:
        services.scribe_job_create_from_transcript(encounter=encounter, clinician=doctor, text="   ")
    assert "transcript" in empty.value.message_dict
    with pytest.raises(ValidationError) as speaker:
        services.scribe_job_create_from_transcript(encounter=encounter, clinician=doctor, turns=[("nurse", "hi")])
    assert "speaker" in speaker.value.message_dict["transcript"][0]
    with pytest.raises(ValidationError):
        services.scribe_job_create_from_transcript(encounter=encounter, clinician=doctor, text="hi", language="fr")
    assert not ScribeJob.objects.exists() and not AccessLog.objects.filter(object_type="scribe.scribejob").exists()


def test_audio_over_the_limit_is_refused_before_anything_is_stored(team, settings, tmp_path):
    doctor, *_rest, encounter = team
    settings.SCRIBE_AUDIO_DIR = str(tmp_path)
    settings.SCRIBE_MAX_UPLOAD_MB = 0.001
    with pytest.raises(ValidationError) as refused:
        services.scribe_job_create_from_audio(encounter=encounter, clinician=doctor, data=b"x" * 2000)
    assert "larger than" in refused.value.message_dict["audio"][0]
    assert not ScribeJob.objects.exists() and list(tmp_path.iterdir()) == []


def test_audio_is_stored_encrypted_and_the_file_goes_if_the_row_does_not(team, settings, tmp_path, monkeypatch):
    doctor, *_rest, encounter = team
    settings.SCRIBE_AUDIO_DIR = str(tmp_path)
    job = services.scribe_job_create_from_audio(
        encounter=encounter, clinician=doctor, data=b"RIFF....WAVE", language="en"
    )
    assert job.audio_sha256 and job.audio_bytes == 12 and (tmp_path / job.audio_path).exists()

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "_log", broken)
    with pytest.raises(RuntimeError):
        services.scribe_job_create_from_audio(encounter=encounter, clinician=doctor, data=b"RIFF....WAVE")
    assert [p.name for p in tmp_path.iterdir()] == [job.audio_path]


# --- the worker's claim --------------------------------------------------------------------------------------


def test_a_claim_restarts_a_job_whose_worker_died_and_fences_the_dead_one(team):
    doctor, *_rest, encounter = team
    job = transcript_job(encounter, doctor)
    first = services.scribe_job_claim(job_id=job.pk, task_id="task-a")
    services.scribe_job_progress(claim=first, status="extracting", progress=40)
    # the same task delivered again: its first worker died, so the job starts over
    second = services.scribe_job_claim(job_id=job.pk, task_id="task-a")
    assert (first.attempt, second.attempt) == (1, 2)
    job.refresh_from_db()
    assert (job.status, job.progress) == ("extracting", 0)
    with pytest.raises(services.JobSuperseded):
        services.scribe_job_progress(claim=first, status="extracting", progress=50)
    assert services.scribe_job_complete(claim=first, result=_result(job)) is False
    assert services.scribe_job_fail(claim=first, code="internal", reason="x") is False
    assert not ScribeSuggestion.objects.exists()
    assert services.scribe_job_complete(claim=second, result=_result(job)) is True
    assert ScribeSuggestion.objects.filter(job=job).count() == 5
    # a delivery after the result is a no-op
    assert services.scribe_job_claim(job_id=job.pk, task_id="task-a") is None
    assert services.scribe_job_claim(job_id=job.pk, task_id="task-b") is None


def test_a_second_task_leaves_a_job_that_another_live_worker_runs_until_it_goes_quiet(team, settings):
    doctor, *_rest, encounter = team
    job = transcript_job(encounter, doctor)
    assert services.scribe_job_claim(job_id=job.pk, task_id="task-a") is not None
    assert services.scribe_job_claim(job_id=job.pk, task_id="task-b") is None
    settings.SCRIBE_STALE_CLAIM_SECONDS = 0
    taken = services.scribe_job_claim(job_id=job.pk, task_id="task-b")
    assert taken is not None and taken.attempt == 2
    assert services.scribe_job_claim(job_id=10**9, task_id="task-c") is None


def test_the_result_lands_in_one_piece_with_spans_clamped(team):
    doctor, *_rest, encounter = team
    job = transcript_job(encounter, doctor)
    claim = services.scribe_job_claim(job_id=job.pk, task_id="t")
    result = _result(job)
    result.suggestions.append(types.Suggestion("plan", "Follow up", 5, 10**6, 1.7))
    result.suggestions.append(types.Suggestion("nonsense", "x", 0, 1, 0.5))  # type: ignore[arg-type]
    assert services.scribe_job_complete(claim=claim, result=result, hotwords=["aspirin", "angina"])
    job.refresh_from_db()
    assert (job.status, job.progress, job.hotwords) == ("ready", 100, "aspirin, angina")
    rows = list(job.suggestions.order_by("position"))
    assert [r.position for r in rows] == [1, 2, 3, 4, 5, 6]
    plan = rows[-1]
    assert (plan.span_end, plan.confidence) == (len(job.transcript_text), Decimal("1.000"))
    assert "rules" in job.extraction_models


def test_a_failure_keeps_the_reason_and_nothing_else(team):
    doctor, *_rest, encounter = team
    job = transcript_job(encounter, doctor)
    claim = services.scribe_job_claim(job_id=job.pk, task_id="t")
    assert services.scribe_job_fail(claim=claim, code="silent", reason="The recording is silent.")
    job.refresh_from_db()
    assert (job.status, job.failure_code, job.failure_reason) == ("failed", "silent", "The recording is silent.")
    assert not job.suggestions.exists()


# --- decisions and the note ------------------------------------------------------------------------------------


def test_decisions_keep_both_the_suggestion_and_the_clinicians_change(team):
    doctor, *_rest, encounter = team
    job = _ready(transcript_job(encounter, doctor))
    complaint = job.suggestions.get(field_name="chief_complaint")
    services.scribe_suggestion_decide(
        suggestion=complaint, decided_by=doctor, decision="edited", text="Central chest pain for 2 days"
    )
    complaint.refresh_from_db()
    assert complaint.text == "Chest pain for two days"
    assert (complaint.decision, complaint.edited_text, complaint.decided_by) == (
        "edited", "Central chest pain for 2 days", doctor,
    )  # fmt: skip
    with pytest.raises(ValidationError):
        services.scribe_suggestion_decide(suggestion=complaint, decided_by=doctor, decision="edited", text=" ")
    services.scribe_suggestion_decide(suggestion=complaint, decided_by=doctor, decision="pending")
    complaint.refresh_from_db()
    assert (complaint.decision, complaint.decided_by, complaint.edited_text) == ("pending", None, "")


def test_only_the_jobs_clinician_or_a_doctor_of_the_care_team_decides(team):
    doctor, outsider, nurse, _patient, encounter = team
    job = _ready(transcript_job(encounter, doctor))
    item = job.suggestions.first()
    for user in (outsider, nurse):
        with pytest.raises(PermissionDenied):
            services.scribe_suggestion_decide(suggestion=item, decided_by=user, decision="accepted")


def test_an_accepted_vital_sign_becomes_observations_on_the_draft_note(team):
    doctor, *_rest, patient, encounter = team
    job = _ready(transcript_job(encounter, doctor))
    bp = job.suggestions.get(field_name="vital_sign")
    services.scribe_suggestion_decide(suggestion=bp, decided_by=doctor, decision="accepted")
    job.refresh_from_db()
    rows = Observation.objects.filter(patient=patient).order_by("code")
    assert [(o.code, o.value_numeric, o.source) for o in rows] == [
        ("diastolic_bp", Decimal("90"), "dictation"), ("systolic_bp", Decimal("150"), "dictation"),
    ]  # fmt: skip
    assert {o.note for o in rows} == {job.note} and job.note.status == "draft"
    with pytest.raises(ValidationError, match="already recorded"):
        services.scribe_suggestion_decide(suggestion=bp, decided_by=doctor, decision="rejected")


def test_an_edited_vital_sign_out_of_range_is_refused_and_nothing_is_recorded(team):
    doctor, *_rest, encounter = team
    job = _ready(transcript_job(encounter, doctor))
    bp = job.suggestions.get(field_name="vital_sign")
    with pytest.raises(ValidationError):
        services.scribe_suggestion_decide(suggestion=bp, decided_by=doctor, decision="edited", text="90/150")
    bp.refresh_from_db()
    assert bp.decision == "pending" and not Observation.objects.exists() and not ClinicalNote.objects.exists()


def test_filling_the_note_writes_accepted_items_with_provenance_and_signs_nothing(team):
    doctor, *_rest, encounter = team
    job = _ready(transcript_job(encounter, doctor))
    by_field = {s.field_name: s for s in job.suggestions.all()}
    services.scribe_suggestion_decide(
        suggestion=by_field["chief_complaint"], decided_by=doctor, decision="edited", text="Chest pain, 2 days"
    )
    services.scribe_suggestion_decide(suggestion=by_field["medication"], decided_by=doctor, decision="accepted")
    services.scribe_suggestion_decide(suggestion=by_field["allergy"], decided_by=doctor, decision="rejected")
    services.scribe_suggestion_decide(
        suggestion=by_field["diagnosis"], decided_by=doctor, decision="accepted", code="R07.4"
    )

    note = services.scribe_note_fill(job=job, filled_by=doctor)

    assert note.status == "draft" and note.author == doctor
    assert note.chief_complaint == "Chest pain, 2 days"
    assert note.current_medications == "aspirin 100 mg oral daily"
    assert note.allergies == ""
    assert [(d.icd10.code, d.certainty) for d in note.diagnoses.all()] == [("R07.4", "provisional")]
    provenance = {p.field_name: p for p in note.provenance.all()}
    assert set(provenance) == {"chief_complaint", "current_medications", "diagnoses"}
    complaint = provenance["chief_complaint"]
    assert (complaint.source, complaint.accepted, complaint.edited) == (NoteFieldProvenance.Source.MODEL, True, True)
    assert complaint.source_text[complaint.span_start : complaint.span_end] == "chest pain for two days"
    assert complaint.model_name == "rules" and complaint.confidence == Decimal("0.920")
    assert provenance["current_medications"].model_version == "1" and not provenance["current_medications"].edited
    # filled items are final; filling again has nothing new
    with pytest.raises(ValidationError, match="already in the note"):
        services.scribe_suggestion_decide(suggestion=by_field["medication"], decided_by=doctor, decision="rejected")
    with pytest.raises(ValidationError, match="Accept or edit"):
        services.scribe_note_fill(job=job, filled_by=doctor)
    # the clinician signs through the EMR, and only then is it signed
    assert note_sign(note=note, signed_by=doctor).status == "signed"


def test_a_later_fill_after_signing_starts_a_new_draft(team):
    doctor, *_rest, encounter = team
    job = _ready(transcript_job(encounter, doctor))
    by_field = {s.field_name: s for s in job.suggestions.all()}
    services.scribe_suggestion_decide(suggestion=by_field["chief_complaint"], decided_by=doctor, decision="accepted")
    first = services.scribe_note_fill(job=job, filled_by=doctor)
    note_sign(note=first, signed_by=doctor)
    services.scribe_suggestion_decide(suggestion=by_field["allergy"], decided_by=doctor, decision="accepted")
    job.refresh_from_db()
    second = services.scribe_note_fill(job=job, filled_by=doctor)
    assert second.pk != first.pk and second.allergies == "penicillin" and second.status == "draft"


def test_negated_uncertain_and_family_items_read_as_such_in_the_note(team):
    doctor, *_rest, encounter = team
    job = transcript_job(encounter, doctor)
    row = ScribeSuggestion(job=job, field_name="chief_complaint", text="chest pain", negated=True, decision="accepted")
    assert services.note_line(row) == "Denies: chest pain"
    row.text = "no chest pain"
    assert services.note_line(row) == "no chest pain"
    row = ScribeSuggestion(job=job, field_name="family_history", text="diabetes (mother)", family=True)
    assert services.note_line(row) == "Family history: diabetes (mother)"
    row = ScribeSuggestion(job=job, field_name="assessment", text="angina", uncertain=True)
    assert services.note_line(row) == "angina (uncertain)"
    row = ScribeSuggestion(
        job=job, field_name="assessment", text="x", uncertain=True, decision="edited", edited_text="y"
    )
    assert services.note_line(row) == "y"
