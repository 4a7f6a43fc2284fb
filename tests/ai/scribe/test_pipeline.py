"""The pipeline in this process with the real engine: a ready transcript to suggestions and a summary, progress
throttling, vocabulary from the patient's record, and failures that end the job and nothing else."""

from datetime import date

import pytest
from django.utils import timezone

from ai.scribe import pipeline, services
from ai.scribe.models import ScribeJob
from emr.models import Condition, Icd10Code, MedicationOrder
from pharmacy.models import Drug
from tests.ai.scribe.test_services_support import outpatient_with_team, transcript_job

pytestmark = pytest.mark.django_db

TURNS = [
    ("doctor", "What brings you in today?"),
    ("patient", "I have had chest pain for two days. I take aspirin 100 milligrams daily."),
    ("patient", "I am allergic to penicillin. My mother had diabetes."),
    ("doctor", "Your blood pressure is 150 over 90. You deny shortness of breath."),
]


@pytest.fixture
def team():
    return outpatient_with_team()


def test_a_ready_transcript_becomes_suggestions_with_spans_and_a_summary(team):
    doctor, *_rest, encounter = team
    job = transcript_job(encounter, doctor, TURNS)

    outcome = pipeline.scribe_job_run(job_id=job.pk, task_id="task-1")

    job.refresh_from_db()
    assert outcome == "ready" and (job.status, job.progress, job.attempt) == ("ready", 100, 1)
    rows = list(job.suggestions.order_by("position"))
    fields = {row.field_name for row in rows}
    assert {"chief_complaint", "medication", "allergy", "vital_sign", "family_history"} <= fields
    for row in rows:  # every suggestion is supported by the words at its span
        assert row.span_end > row.span_start and job.transcript_text[row.span_start : row.span_end].strip()
        assert row.model_name and 0 <= row.confidence <= 1
    denied = next(row for row in rows if row.negated)
    assert "shortness of breath" in job.transcript_text[denied.span_start : denied.span_end]
    assert next(row for row in rows if row.field_name == "family_history").family
    assert "penicillin" in job.summary and job.summary_model
    assert {"extract", "summary"} <= set(job.timings)
    assert job.asr_model_name == "" and job.hotwords == ""  # nothing was transcribed
    # a second delivery of the task finds the job done
    assert pipeline.scribe_job_run(job_id=job.pk, task_id="task-1") == "skipped"
    assert job.suggestions.count() == len(rows)


def test_an_unexpected_error_fails_the_job_with_a_clinicians_reason_and_is_logged(team, monkeypatch, caplog):
    doctor, *_rest, encounter = team
    job = transcript_job(encounter, doctor, TURNS)

    def broken(*args, **kwargs):
        raise KeyError("a defect in the extractor")

    monkeypatch.setattr("ai.scribe.engine.extract.extract", broken)
    outcome = pipeline.scribe_job_run(job_id=job.pk, task_id="t")

    job.refresh_from_db()
    assert outcome == "failed" and (job.status, job.failure_code) == ("failed", "internal")
    assert "internal error" in job.failure_reason and "KeyError" not in job.failure_reason
    assert not job.suggestions.exists()
    assert "a defect in the extractor" in caplog.text


def test_a_chinese_job_fails_in_chinese(team, monkeypatch):
    from django.utils import translation

    doctor, *_rest, encounter = team
    job = transcript_job(encounter, doctor, [("patient", "我胸痛两天了。")], language="zh")
    monkeypatch.setattr("ai.scribe.engine.extract.extract", lambda *a, **k: 1 / 0)
    pipeline.scribe_job_run(job_id=job.pk, task_id="t")
    job.refresh_from_db()
    with translation.override("zh-hans"):
        assert job.status == "failed" and job.failure_reason == pipeline._generic_reason()


def test_a_missing_recording_fails_with_a_reason(team, settings, tmp_path):
    doctor, *_rest, encounter = team
    settings.SCRIBE_AUDIO_DIR = str(tmp_path)
    job = services.scribe_job_create_from_audio(encounter=encounter, clinician=doctor, data=b"RIFF")
    (tmp_path / job.audio_path).unlink()
    assert pipeline.scribe_job_run(job_id=job.pk, task_id="t") == "failed"
    job.refresh_from_db()
    assert job.failure_code == "audio_missing" and "Upload it again" in job.failure_reason


def test_progress_is_written_only_when_it_moved_and_time_passed(team, settings):
    doctor, *_rest, encounter = team
    job = transcript_job(encounter, doctor)
    claim = services.scribe_job_claim(job_id=job.pk, task_id="t")
    now = [0.0]
    reporter = pipeline.ProgressReporter(claim, clock=lambda: now[0])
    settings.SCRIBE_PROGRESS_INTERVAL_SECONDS = 1.0

    for step in range(100):  # a segment every 0.1 s, 1 % each
        now[0] = step * 0.1
        reporter(step / 100)

    job.refresh_from_db()
    assert reporter.writes == 10 and (job.status, job.progress) == ("transcribing", 90)
    now[0] = 11.0
    reporter(1.0)
    job.refresh_from_db()
    assert job.progress == 99  # 100 only with the result


def test_a_superseded_worker_stops_at_its_next_progress_report(team):
    doctor, *_rest, encounter = team
    job = transcript_job(encounter, doctor)
    old = services.scribe_job_claim(job_id=job.pk, task_id="t")
    services.scribe_job_claim(job_id=job.pk, task_id="t")  # redelivered: the job restarted
    with pytest.raises(services.JobSuperseded):
        pipeline.ProgressReporter(old)(0.5)


def test_hotwords_come_from_the_patients_problems_and_medications(team, settings):
    doctor, *_rest, patient, encounter = team
    from tests.emr.test_clinical_support import ensure_icd10

    ensure_icd10()
    Condition.objects.create(
        patient=patient, encounter=encounter, icd10=Icd10Code.objects.get(code="I10"), recorded_by=doctor,
        onset_date=date(2020, 1, 1),
    )  # fmt: skip
    drug, _created = Drug.objects.get_or_create(
        generic_name_en="Amlodipine", form="tablet", strength="5 mg",
        defaults={"generic_name_zh": "氨氯地平", "route": "oral", "atc_code": "C08CA01", "synonyms": ["Norvasc"]},
    )  # fmt: skip
    MedicationOrder.objects.create(
        patient=patient, encounter=encounter, drug=drug, dose=5, dose_unit="mg", route="oral", frequency="qd",
        ordered_by=doctor, ordered_at=timezone.now(),
    )  # fmt: skip
    job = ScribeJob.objects.get(pk=transcript_job(encounter, doctor).pk)
    from ai.scribe.engine.vocabulary import Vocabulary

    vocabulary = Vocabulary.default()

    targeted = pipeline._hotwords(job, vocabulary)  # the defaults: formulary terms, targeted biasing
    settings.SCRIBE_WHISPER_BIAS = "hotwords"
    repeated = pipeline._hotwords(job, vocabulary)
    settings.SCRIBE_VOCABULARY_BIAS = "patient"
    own = pipeline._hotwords(job, vocabulary)
    settings.SCRIBE_VOCABULARY_BIAS = "off"
    off = pipeline._hotwords(job, vocabulary)

    assert own[0] == "Essential (primary) hypertension" and "Amlodipine" in own and "Paracetamol" not in own
    assert repeated[: len(own)] == own and "Paracetamol" in repeated and len(repeated) <= 60
    assert targeted[: len(own)] == own and len(targeted) > 100
    assert all(term.isascii() for term in targeted[len(repeated) :])
    assert len({term.lower() for term in targeted}) == len(targeted)
    assert off == []
