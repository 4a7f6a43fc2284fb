"""The scribe's REST API: post a recording or a transcript, follow the job, decide, fill the note; who may."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ai.scribe import services
from ai.scribe.engine import types
from ai.scribe.models import ScribeJob
from emr.services.access import break_glass_grant
from hospital.core.models import AccessLog
from tests.ai.scribe.test_services_support import outpatient_with_team, suggestion, transcript_job

pytestmark = pytest.mark.django_db

JOBS = "/api/v1/scribe/jobs/"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x01" * 4000


@pytest.fixture
def team():
    return outpatient_with_team()


@pytest.fixture(autouse=True)
def audio_dir(settings, tmp_path):
    settings.SCRIBE_AUDIO_DIR = str(tmp_path)
    return tmp_path


def _client(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def _ready(job: ScribeJob) -> ScribeJob:
    text = job.transcript_text
    claim = services.scribe_job_claim(job_id=job.pk, task_id="t")
    services.scribe_job_complete(
        claim=claim,
        result=types.ScribeResult(
            transcript=services.scribe_job_transcript(job),
            suggestions=[
                suggestion("chief_complaint", "Chest pain for two days", text, "chest pain for two days"),
                suggestion("allergy", "penicillin", text, "allergic to penicillin", value={"substance": "penicillin"}),
            ],
            summary="Chest pain.",
        ),
    )
    job.refresh_from_db()
    return job


def test_a_doctor_posts_a_transcript_and_follows_the_job(api_client, team):
    doctor, _outsider, _nurse, patient, encounter = team
    client = _client(api_client, doctor)
    body = {"encounter": str(encounter.external_id), "turns": [{"speaker": "doctor", "text": "Any pain?"}]}

    created = client.post(JOBS, body, format="json")

    assert created.status_code == 202
    job = ScribeJob.objects.get(external_id=created.data["external_id"])
    assert (job.source, job.transcript_text, job.clinician) == ("transcript", "Any pain?", doctor)
    assert created.data["url"] == f"{JOBS}{job.external_id}/"
    followed = client.get(created.data["url"])
    assert followed.status_code == 200
    assert (followed.data["status"], followed.data["progress"], followed.data["audio"]) == ("queued", 0, None)
    assert followed.data["segments"][0]["speaker"] == "doctor"
    assert AccessLog.objects.filter(
        object_type="scribe.scribejob", action="read", actor=doctor, patient_external_id=patient.external_id
    ).exists()


def test_plain_text_and_bad_transcripts(api_client, team):
    doctor, *_rest, encounter = team
    client = _client(api_client, doctor)
    ok = client.post(
        JOBS, {"encounter": str(encounter.external_id), "text": "Doctor: hi\nPatient: hello"}, format="json"
    )
    assert ok.status_code == 202
    both = client.post(JOBS, {"encounter": str(encounter.external_id), "text": "x", "turns": []}, format="json")
    assert both.status_code == 400 and "turns" in both.data["error"]["fields"]
    speaker = client.post(
        JOBS, {"encounter": str(encounter.external_id), "turns": [{"speaker": "nurse", "text": "x"}]}, format="json"
    )
    assert speaker.status_code == 400
    empty = client.post(JOBS, {"encounter": str(encounter.external_id), "text": "  \n "}, format="json")
    assert empty.status_code == 400 and "transcript" in empty.data["error"]["fields"]
    unknown = client.post(JOBS, {"encounter": str(uuid.uuid4()), "text": "x"}, format="json")
    assert unknown.status_code == 400 and "encounter" in unknown.data["error"]["fields"]
    assert ScribeJob.objects.count() == 1


def test_a_recording_is_stored_encrypted_and_queued(api_client, team, audio_dir):
    doctor, *_rest, encounter = team
    client = _client(api_client, doctor)
    upload = SimpleUploadedFile("visit.wav", WAV, content_type="audio/wav")

    created = client.post(
        JOBS, {"encounter": str(encounter.external_id), "audio": upload, "language": "zh"}, format="multipart"
    )

    assert created.status_code == 202, created.data
    job = ScribeJob.objects.get(external_id=created.data["external_id"])
    assert (job.source, job.language, job.audio_bytes, job.audio_content_type) == (
        "upload",
        "zh",
        len(WAV),
        "audio/wav",
    )
    stored = (audio_dir / job.audio_path).read_bytes()
    assert b"RIFF" not in stored and b"WAVE" not in stored
    detail = client.get(created.data["url"]).data
    assert detail["audio"]["stored"] is True and len(detail["audio"]["sha256"]) == 64


def test_a_recording_over_the_limit_is_refused_with_413_and_nothing_is_stored(api_client, team, settings, audio_dir):
    doctor, *_rest, encounter = team
    client = _client(api_client, doctor)
    settings.SCRIBE_MAX_UPLOAD_MB = 0.002  # about 2 kB
    upload = SimpleUploadedFile("visit.wav", WAV, content_type="audio/wav")

    by_file = client.post(JOBS, {"encounter": str(encounter.external_id), "audio": upload}, format="multipart")
    big = SimpleUploadedFile("long.wav", b"\x00" * (1024 * 1024 + 4096), content_type="audio/wav")
    by_header = client.post(JOBS, {"encounter": str(encounter.external_id), "audio": big}, format="multipart")

    for response in (by_file, by_header):
        assert response.status_code == 413
        assert response.data["error"]["code"] == "too_large"
        assert "larger than" in response.data["error"]["message"]
    assert not ScribeJob.objects.exists() and list(audio_dir.iterdir()) == []


def test_only_doctors_treating_the_patient_may_start_a_job(api_client, team, user_factory):
    doctor, outsider, nurse, patient, encounter = team
    body = {"encounter": str(encounter.external_id), "text": "x"}

    nurse_response = _client(api_client, nurse).post(JOBS, body, format="json")
    outsider_response = _client(api_client, outsider).post(JOBS, body, format="json")
    archivist = user_factory(username="archivist1", roles=["records_archivist"])
    archivist_response = _client(api_client, archivist).post(JOBS, body, format="json")

    assert nurse_response.status_code == 403
    assert archivist_response.status_code == 403
    assert outsider_response.status_code == 403
    assert outsider_response.data["error"]["code"] == "break_glass_required"
    assert not ScribeJob.objects.exists()
    refused = AccessLog.objects.filter(actor=outsider, patient_external_id=patient.external_id)
    assert refused.exists()


def test_a_job_is_seen_by_its_clinician_and_the_care_teams_doctors_only(api_client, team, user_factory):
    from emr.services.encounters import care_team_add

    doctor, outsider, nurse, patient, encounter = team
    colleague = user_factory(username="dr.colleague", roles=["doctor"])
    care_team_add(encounter=encounter, user=colleague, role="resident", added_by=doctor)
    job = transcript_job(encounter, doctor)
    url = f"{JOBS}{job.external_id}/"

    assert _client(api_client, colleague).get(url).status_code == 200
    assert _client(api_client, nurse).get(url).status_code == 403
    assert _client(api_client, outsider).get(url).data["error"]["code"] == "break_glass_required"
    # the glass opens the chart, not another clinician's scribe work
    break_glass_grant(user=outsider, patient=patient, reason="Emergency review")
    assert _client(api_client, outsider).get(url).status_code == 404
    assert _client(api_client, doctor).get(f"{JOBS}{uuid.uuid4()}/").status_code == 404


def test_a_ready_job_gives_transcript_suggestions_with_spans_and_summary(api_client, team, django_assert_num_queries):
    doctor, *_rest, encounter = team
    job = _ready(transcript_job(encounter, doctor))
    client = _client(api_client, doctor)

    # the user's permissions (2), the job with its relations, the patient's access check, the access-log entry
    # (lock, last hash, id, insert, savepoint and release), the suggestions: fixed, whatever their number
    with django_assert_num_queries(11):
        data = client.get(f"{JOBS}{job.external_id}/").data

    assert data["status"] == "ready" and data["progress"] == 100 and data["summary"] == "Chest pain."
    first = data["suggestions"][0]
    assert first["field"] == "chief_complaint" and first["source_text"] == "chest pain for two days"
    assert data["transcript"][first["span_start"] : first["span_end"]] == "chest pain for two days"
    assert first["decision"] == "pending" and first["decided_by"] is None


def test_decide_and_fill_the_note_over_the_api(api_client, team):
    doctor, *_rest, encounter = team
    job = _ready(transcript_job(encounter, doctor))
    client = _client(api_client, doctor)
    complaint, allergy = job.suggestions.order_by("position")
    decide = f"{JOBS}{job.external_id}/suggestions/{{}}/decision/"

    edited = client.post(decide.format(complaint.external_id), {"decision": "edited", "text": "Chest pain 2 d"})
    missing_text = client.post(decide.format(allergy.external_id), {"decision": "edited", "text": ""})
    bad = client.post(decide.format(allergy.external_id), {"decision": "maybe"})
    accepted = client.post(decide.format(allergy.external_id), {"decision": "accepted"})
    filled = client.post(f"{JOBS}{job.external_id}/fill-note/")
    again = client.post(f"{JOBS}{job.external_id}/fill-note/")

    assert edited.status_code == 200 and edited.data["edited_text"] == "Chest pain 2 d"
    assert edited.data["text"] == "Chest pain for two days"
    assert missing_text.status_code == 400 and "text" in missing_text.data["error"]["fields"]
    assert bad.status_code == 400 and accepted.status_code == 200
    assert filled.status_code == 200 and filled.data["filled"] == 2
    assert again.status_code == 400
    note = client.get(f"/api/v1/emr/notes/{filled.data['note']}/").data
    assert (note["status"], note["chief_complaint"], note["allergies"]) == ("draft", "Chest pain 2 d", "penicillin")
    assert client.get(f"{JOBS}{job.external_id}/suggestions/{uuid.uuid4()}/decision/").status_code == 405


def test_the_encounters_jobs_are_listed_for_the_team(api_client, team):
    doctor, outsider, *_rest, encounter = team
    transcript_job(encounter, doctor)
    transcript_job(encounter, doctor)
    listed = _client(api_client, doctor).get(JOBS, {"encounter": str(encounter.external_id)})
    assert listed.status_code == 200 and len(listed.data) == 2
    assert _client(api_client, doctor).get(JOBS, {"encounter": "nope"}).status_code == 400
    assert _client(api_client, outsider).get(JOBS, {"encounter": str(encounter.external_id)}).status_code == 403


def test_the_openapi_document_describes_the_scribe_without_warnings():
    # The scribe's part of the document with the enum names the settings give it; tests/core/test_openapi.py
    # checks the whole document.
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    enums = {
        "ScribeJobStatusEnum", "ScribeJobSourceEnum", "ScribeRecordingSourceEnum", "ScribeLanguageEnum",
        "ScribeDecisionEnum", "ScribeFieldEnum", "ScribeSpeakerEnum",
    }  # fmt: skip
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/scribe/", include("ai.scribe.api_urls"))])
    schema = generator.get_schema(request=None, public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS, (dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache))
    assert set(schema["paths"]) == {
        "/api/v1/scribe/jobs/",
        "/api/v1/scribe/jobs/{external_id}/",
        "/api/v1/scribe/jobs/{external_id}/suggestions/{suggestion_id}/decision/",
        "/api/v1/scribe/jobs/{external_id}/fill-note/",
    }
    create = schema["paths"]["/api/v1/scribe/jobs/"]["post"]
    assert set(create["requestBody"]["content"]) == {"multipart/form-data", "application/json"}
    assert {"202", "400", "403", "413"} <= set(create["responses"])
    assert enums <= set(schema["components"]["schemas"])
