"""The scribe's pages without a browser: who gets in, uploads and their limits, the live status, the review."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from ai.scribe import services
from ai.scribe.engine import types
from ai.scribe.models import ScribeJob
from ai.scribe.views import dialogue
from hospital.core.models import AccessLog
from tests.ai.scribe.test_services_support import outpatient_with_team, suggestion, transcript_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return outpatient_with_team()


@pytest.fixture(autouse=True)
def audio_dir(settings, tmp_path):
    settings.SCRIBE_AUDIO_DIR = str(tmp_path)
    return tmp_path


def _ready(job: ScribeJob, suggestions=None) -> ScribeJob:
    text = job.transcript_text
    claim = services.scribe_job_claim(job_id=job.pk, task_id="t")
    services.scribe_job_complete(
        claim=claim,
        result=types.ScribeResult(
            transcript=services.scribe_job_transcript(job),
            suggestions=suggestions
            or [
                suggestion("chief_complaint", "Chest pain for two days", text, "chest pain for two days"),
                suggestion(
                    "diagnosis",
                    "Angina",
                    text,
                    "chest pain",
                    uncertain=True,
                    value={
                        "code": "I20.9",
                        "title": "Angina pectoris, unspecified",
                        "candidates": [
                            {"code": "I20.9", "title": "Angina pectoris, unspecified", "confidence": 0.6},
                            {"code": "R07.4", "title": "Chest pain, unspecified", "confidence": 0.3},
                        ],
                    },
                ),
                suggestion("allergy", "penicillin", text, "allergic to penicillin", negated=False, family=True),
            ],  # fmt: skip
            summary="Chest pain for two days.",
        ),
    )
    job.refresh_from_db()
    return job


def test_the_new_page_opens_from_an_encounter_for_its_doctors_only(client, team):
    doctor, outsider, nurse, patient, encounter = team
    url = f"/scribe/new/?encounter={encounter.external_id}"

    client.force_login(doctor)
    page = client.get(url)
    assert page.status_code == 200
    assert patient.full_name in page.content.decode() and 'name="audio"' in page.content.decode()
    assert client.get("/scribe/new/?encounter=nonsense").status_code == 404
    assert client.get(f"/scribe/new/?encounter={uuid.uuid4()}").status_code == 404

    client.force_login(outsider)
    refused = client.get(url)
    assert refused.status_code == 403 and "break the glass" in refused.content.decode().lower()
    client.force_login(nurse)
    assert client.get(url).status_code == 403


def test_an_upload_starts_a_job_and_opens_its_live_status(client, team, audio_dir):
    doctor, *_rest, encounter = team
    client.force_login(doctor)
    upload = SimpleUploadedFile("visit.wav", b"RIFF0000WAVEfmt " + b"\x00" * 100, content_type="audio/wav")

    response = client.post(f"/scribe/new/?encounter={encounter.external_id}", {"audio": upload, "language": "en"})

    job = ScribeJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/scribe/{job.external_id}/"
    assert (audio_dir / job.audio_path).exists()
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="queued"' in page and 'hx-trigger="every 2000ms"' in page
    job.status, job.progress = "transcribing", 42
    job.save()
    status = client.get(f"/scribe/{job.external_id}/status/", HTTP_HX_REQUEST="true")
    assert "Transcribing 42%" in status.content.decode() and "HX-Refresh" not in status


def test_a_recording_over_the_limit_is_refused_on_the_page(client, team, settings, audio_dir):
    doctor, *_rest, encounter = team
    client.force_login(doctor)
    settings.SCRIBE_MAX_UPLOAD_MB = 0.001
    upload = SimpleUploadedFile("visit.wav", b"\x00" * 5000, content_type="audio/wav")

    response = client.post(f"/scribe/new/?encounter={encounter.external_id}", {"audio": upload})

    assert response.status_code == 413 and "larger than" in response.content.decode()
    assert not ScribeJob.objects.exists() and list(audio_dir.iterdir()) == []


def test_a_pasted_transcript_and_an_empty_form(client, team):
    doctor, *_rest, encounter = team
    client.force_login(doctor)
    url = f"/scribe/new/?encounter={encounter.external_id}"
    empty = client.post(url, {"transcript": "  "})
    assert empty.status_code == 400 and "paste a transcript" in empty.content.decode()
    pasted = client.post(url, {"transcript": "Doctor: Any allergies?\nPatient: Penicillin.", "language": "en"})
    assert pasted.status_code == 302
    assert ScribeJob.objects.get().transcript_segments[1]["speaker"] == "patient"


def test_a_failed_job_says_why_and_the_poll_reloads_the_page(client, team):
    doctor, *_rest, encounter = team
    job = transcript_job(encounter, doctor)
    claim = services.scribe_job_claim(job_id=job.pk, task_id="t")
    services.scribe_job_fail(claim=claim, code="silent", reason="The recording is silent.")
    client.force_login(doctor)

    status = client.get(f"/scribe/{job.external_id}/status/", HTTP_HX_REQUEST="true")
    page = client.get(f"/scribe/{job.external_id}/").content.decode()

    assert status["HX-Refresh"] == "true"
    assert "The recording is silent." in page and "Try another recording" in page
    assert f"/scribe/{job.external_id}/status/" not in page  # no more polling


def test_the_review_shows_the_dialogue_with_highlighted_spans_and_the_suggestions(client, team):
    doctor, *_rest, encounter = team
    job = _ready(transcript_job(encounter, doctor))
    client.force_login(doctor)
    complaint = job.suggestions.get(field_name="chief_complaint")
    diagnosis = job.suggestions.get(field_name="diagnosis")

    page = client.get(f"/scribe/{job.external_id}/").content.decode()

    # "chest pain" supports both; "for two days" only the complaint
    assert f'<mark data-s="{complaint.external_id} {diagnosis.external_id}">chest pain</mark>' in page
    assert f'<mark data-s="{complaint.external_id}"> for two days</mark>' in page
    assert 'data-speaker="patient"' in page and "Suggested fields" in page
    assert 'value="R07.4"' in page and 'data-flag="uncertain"' in page and 'data-flag="family"' in page
    assert "Chest pain for two days." in page  # the summary
    assert AccessLog.objects.filter(object_type="scribe.scribejob", action="read", actor=doctor).exists()


def test_deciding_with_htmx_returns_the_card_and_the_fill_count(client, team):
    doctor, *_rest, encounter = team
    job = _ready(transcript_job(encounter, doctor))
    client.force_login(doctor)
    complaint = job.suggestions.get(field_name="chief_complaint")
    url = f"/scribe/{job.external_id}/suggestions/{complaint.external_id}/"

    edited = client.post(url, {"decision": "edited", "text": "Chest pain, 2 days"}, HTTP_HX_REQUEST="true")
    refused = client.post(url, {"decision": "edited", "text": ""}, HTTP_HX_REQUEST="true")

    body = edited.content.decode()
    assert edited.status_code == 200 and 'data-decision="edited"' in body and "Chest pain, 2 days" in body
    assert '<span id="fill-count" hx-swap-oob="true">1</span>' in body
    assert refused.status_code == 400 and "Enter the corrected text." in refused.content.decode()
    filled = client.post(f"/scribe/{job.external_id}/fill/")
    job.refresh_from_db()
    assert filled.status_code == 302 and filled["Location"] == f"/patients/notes/{job.note.external_id}/edit/"
    assert job.note.chief_complaint == "Chest pain, 2 days" and job.note.status == "draft"


def test_the_page_speaks_chinese(client, team):
    doctor, *_rest, encounter = team
    job = _ready(transcript_job(encounter, doctor))
    client.force_login(doctor)
    with translation.override("zh-hans"):
        page = client.get(f"/scribe/{job.external_id}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and '<html lang="zh-hans"' in page.content.decode()


def test_the_dialogue_cuts_turns_where_spans_start_and_end():
    job = ScribeJob(
        transcript_text="abc def\nghi",
        transcript_segments=[
            {"speaker": "doctor", "start": 0, "char_start": 0, "char_end": 7},
            {"speaker": "patient", "start": 1, "char_start": 8, "char_end": 11},
        ],
    )
    first, second = types.Suggestion("plan", "x", 4, 10, 0.5), types.Suggestion("plan", "y", 5, 7, 0.5)
    rows = [services._suggestion_row(job, n, s, 11) for n, s in enumerate((first, second), start=1)]
    a, b = (str(r.external_id) for r in rows)
    turns = dialogue(job, rows)
    assert [(p.text, p.ids) for p in turns[0].pieces] == [("abc ", []), ("d", [a]), ("ef", [a, b])]
    assert [(p.text, p.ids) for p in turns[1].pieces] == [("gh", [a]), ("i", [])]


def test_the_list_shows_the_users_jobs(client, team):
    doctor, outsider, *_rest, encounter = team
    transcript_job(encounter, doctor)
    client.force_login(doctor)
    assert "Ready for review" not in client.get("/scribe/").content.decode()
    assert "Queued" in client.get("/scribe/").content.decode()
    client.force_login(outsider)
    assert "Queued" not in client.get("/scribe/").content.decode()


def test_the_admin_lists_jobs_without_their_clinical_text(client, team, user_factory):
    doctor, *_rest, encounter = team
    job = transcript_job(encounter, doctor)
    admin = user_factory(username="root1", roles=[])
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    from django.test import override_settings

    with override_settings(OTP_REQUIRED_FOR_ADMINS=False):
        listing = client.get("/admin/scribe/scribejob/")
        detail = client.get(f"/admin/scribe/scribejob/{job.pk}/change/")
    assert listing.status_code == 200 and detail.status_code == 200
    assert "chest pain" not in detail.content.decode().lower()
    assert "Queued" in listing.content.decode()


def test_the_upload_form_still_needs_its_csrf_token(team):
    from django.test import Client

    doctor, *_rest, encounter = team
    client = Client(enforce_csrf_checks=True)
    client.force_login(doctor)
    refused = client.post(f"/scribe/new/?encounter={encounter.external_id}", {"transcript": "Doctor: hello"})
    assert refused.status_code == 403 and not ScribeJob.objects.exists()
