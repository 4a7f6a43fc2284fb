"""The scribe in a real browser.

1. A doctor opens the scribe from the patient's chart, uploads a short dictation (spoken by espeak-ng), watches
   a real worker transcribe it with the real tiny.en model, reviews the suggested fields beside their highlighted
   sources, edits one, accepts others (the blood pressure becomes observations), fills the draft note and signs
   it in the EMR.
2. A Chinese consultation typed in as a transcript, reviewed on a tablet in Chinese.

Screenshots go to var/screenshots/ (scribe-*.png). The first test takes about half a minute: a worker starts,
loads the speech model and transcribes.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from ai.scribe import pipeline
from ai.scribe.models import ScribeJob
from emr.models import ClinicalNote, Observation
from tests.ai.scribe.test_services_support import (
    espeak_wav,
    outpatient_with_team,
    purge_broker_queues,
    remove_job_audio,
    transcript_job,
)
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
# Records, in the tab's session storage (it survives the reload at the end), every status the live panel shows.
WATCH_STATUS = """
() => {
  const seen = () => JSON.parse(sessionStorage.getItem("scribe-seen") || "[]");
  const note = () => {
    const panel = document.getElementById("job-status");
    if (panel) {
      const list = seen();
      const entry = panel.dataset.status + ":" + panel.querySelector("[data-testid=status-line]").textContent.trim();
      if (list[list.length - 1] !== entry) {
        list.push(entry);
        sessionStorage.setItem("scribe-seen", JSON.stringify(list));
      }
    }
  };
  note();
  new MutationObserver(note).observe(document.body, {childList: true, subtree: true});
}
"""


def _shot(page, name: str, *, full_page: bool = True) -> None:
    # The review on a laptop keeps the transcript in view while the fields scroll: a window-sized shot shows that.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def _sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("user-name")).to_be_visible()


def _card(page, field: str, text: str):
    return page.locator(f'[data-testid=suggestions] .suggestion[data-field="{field}"]', has_text=text).first


def test_doctor_dictates_reviews_edits_fills_and_signs(page, celery_worker_process, settings, tmp_path):
    settings.SCRIBE_POLL_SECONDS = 0.3
    purge_broker_queues()
    doctor, _outsider, _nurse, patient, encounter = outpatient_with_team("e2e")
    dictation = espeak_wav(tmp_path / "dictation.wav")

    try:
        # given the doctor on the patient's chart
        _sign_in(page, doctor.username)
        page.goto(f"/patients/{patient.external_id}/")
        page.get_by_test_id("patient-banner").get_by_role("link", name="Scribe").click()
        expect(page.get_by_role("heading", name="Scribe: new consultation")).to_be_visible()

        # when they upload the dictation
        page.locator("input[name=audio]").set_input_files(str(dictation))
        page.get_by_test_id("scribe-submit").click()

        # then they watch it go through the stages, live
        expect(page.get_by_test_id("job-status")).to_be_visible()
        page.evaluate(WATCH_STATUS)
        expect(page.get_by_test_id("transcript")).to_be_visible(timeout=180_000)
        seen = page.evaluate("() => JSON.parse(sessionStorage.getItem('scribe-seen') || '[]')")
        statuses = [entry.split(":")[0] for entry in seen]
        assert statuses[0] in ("queued", "transcribing") and "transcribing" in statuses, seen
        assert any(entry.startswith("transcribing:Transcribing") and "%" in entry for entry in seen), seen
        job = ScribeJob.objects.get()
        assert job.status == "ready" and job.asr_model_name == "tiny.en"

        # and review the suggested fields beside the transcript with their sources highlighted
        transcript = page.get_by_test_id("transcript")
        expect(transcript).to_contain_text("chest pain for two days")
        expect(transcript.locator("mark").first).to_be_visible()
        complaint = _card(page, "chief_complaint", "Chest pain")
        medication = _card(page, "medication", "Aspirin 100 mg")
        systolic = _card(page, "vital_sign", "systolic")
        diastolic = _card(page, "vital_sign", "diastolic")
        expect(medication.locator(".source")).to_contain_text("aspirin 100 milligrams daily")
        medication.hover()
        medication_id = medication.get_attribute("data-suggestion")
        expect(transcript.locator(f'mark.active[data-s~="{medication_id}"]').first).to_be_visible()
        _shot(page, "scribe-review-en-laptop", full_page=False)

        # when they edit the chief complaint, accept the medication, allergy and blood pressure
        complaint.get_by_text("Edit", exact=True).click()
        complaint.locator("textarea").fill("Central chest pain for two days")
        complaint.get_by_role("button", name="Save edit").click()
        complaint = page.locator(f"#s-{complaint.get_attribute('data-suggestion')}")
        expect(complaint.get_by_test_id("decision")).to_have_text("Edited")
        expect(complaint.get_by_test_id("edited-text")).to_contain_text("Central chest pain for two days")
        for card in (medication, systolic, diastolic):
            card_id = card.get_attribute("data-suggestion")
            card.get_by_role("button", name="Accept").click()
            expect(page.locator(f"#s-{card_id}").get_by_test_id("decision")).to_have_text("Accepted")
        allergy = page.locator('.suggestion[data-field="allergy"]')
        if allergy.count():  # tiny.en hears "penicillin" in this dictation; accept it when it is there
            allergy_id = allergy.first.get_attribute("data-suggestion")
            allergy.first.get_by_role("button", name="Accept").click()
            expect(page.locator(f"#s-{allergy_id}").get_by_test_id("decision")).to_have_text("Accepted")
        expect(
            page.locator(f"#s-{systolic.get_attribute('data-suggestion')}").get_by_test_id("recorded")
        ).to_be_visible()
        expect(page.locator("#fill-count")).not_to_have_text("0")

        # and fill the draft note, nothing is signed yet
        page.get_by_test_id("fill-note").click()
        expect(page.locator(".messages")).to_contain_text("The accepted items are in the draft note")
        expect(page.get_by_label("Chief complaint")).to_have_value("Central chest pain for two days")
        expect(page.get_by_label("Current medications")).to_have_value("Aspirin 100 mg once daily")
        note = ClinicalNote.objects.get()
        assert note.status == "draft" and note.signed_at is None
        _shot(page, "scribe-filled-note-en-laptop")

        # then they sign it through the EMR's own signing
        page.get_by_role("button", name="Save and sign…").click()
        expect(page.get_by_test_id("sign-confirm")).to_be_visible()
        page.get_by_role("button", name="Sign now").click()
        expect(page.get_by_test_id("note-detail")).to_contain_text("Signed")

        note.refresh_from_db()
        assert note.status == "signed" and note.signed_by == doctor
        provenance = {p.field_name: p for p in note.provenance.all()}
        assert provenance["chief_complaint"].edited and provenance["chief_complaint"].model_name == "scribe-rules"
        assert not provenance["current_medications"].edited and provenance["current_medications"].accepted
        pressures = Observation.objects.filter(note=note).values_list("code", "value_numeric")
        assert {(code, int(value)) for code, value in pressures} == {("systolic_bp", 150), ("diastolic_bp", 90)}
        job.refresh_from_db()
        complaint_row = job.suggestions.get(field_name="chief_complaint")
        assert complaint_row.text == "Chest pain" and complaint_row.edited_text == "Central chest pain for two days"
    finally:
        remove_job_audio(*ScribeJob.objects.all())


def test_a_chinese_transcript_is_reviewed_on_a_tablet(page):
    doctor, _outsider, _nurse, patient, encounter = outpatient_with_team("zh")
    job = transcript_job(
        encounter,
        doctor,
        [
            ("doctor", "今天哪里不舒服？"),
            ("patient", "我胸痛两天了。我每天吃阿司匹林100毫克。我对青霉素过敏。"),
            ("doctor", "血压150/90。"),
        ],
        language="zh",
    )
    assert pipeline.scribe_job_run(job_id=job.pk, task_id="zh-1") == "ready"
    page.set_viewport_size({"width": 820, "height": 1180})

    # given the doctor reads the pages in Chinese on a tablet
    _sign_in(page, doctor.username)
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.goto(f"/scribe/new/?encounter={encounter.external_id}")
    expect(page.get_by_test_id("scribe-jobs")).to_be_visible()
    _shot(page, "scribe-new-zh-tablet")

    # when they open the job, the transcript comes first and the fields follow in one column
    page.goto(f"/scribe/{job.external_id}/")
    transcript = page.get_by_test_id("transcript")
    suggestions = page.get_by_test_id("suggestions")
    expect(transcript).to_contain_text("我胸痛两天了")
    assert transcript.bounding_box()["y"] < suggestions.bounding_box()["y"]
    medication = page.locator('.suggestion[data-field="medication"]').first
    expect(medication).to_contain_text("阿司匹林")
    _shot(page, "scribe-review-zh-tablet")

    # then rejecting and accepting work there too
    medication_id = medication.get_attribute("data-suggestion")
    medication.locator("button[value=rejected]").click()
    expect(page.locator(f"#s-{medication_id}")).to_have_attribute("data-decision", "rejected")
    page.locator(f"#s-{medication_id} button[value=pending]").click()
    expect(page.locator(f"#s-{medication_id}")).to_have_attribute("data-decision", "pending")
    page.goto("/scribe/")
    expect(page.get_by_test_id("scribe-jobs")).to_contain_text(patient.mrn)
