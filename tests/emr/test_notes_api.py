"""The notes REST API: drafts, signing, amendments, versions, diagnoses, provenance; signed notes answer 409."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from emr.models import ClinicalNote, NoteDiagnosis, NoteFieldProvenance
from emr.services.notes import note_create_draft
from hospital.core.models import AccessLog
from tests.emr.test_notes_support import (
    add_to_care_team,
    make_encounter,
    make_icd10,
    make_patient,
    make_signed_note,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def encounter(doctor):
    make_icd10()
    return make_encounter(make_patient(), doctor)


@pytest.fixture
def signed(encounter, doctor):
    return make_signed_note(encounter, doctor)


def _notes_url(patient):
    return f"/api/v1/emr/patients/{patient.external_id}/notes/"


def _note_url(note, action=""):
    return f"/api/v1/emr/notes/{note.external_id}/" + (f"{action}/" if action else "")


def test_write_sign_and_amend_a_note_over_the_api(doctor_api, encounter):
    # given a draft written over the API
    response = doctor_api.post(
        _notes_url(encounter.patient),
        {"encounter": str(encounter.external_id), "note_type": "outpatient", "chief_complaint": "胸痛三天"},
        format="json",
    )
    assert response.status_code == 201, response.content
    note = response.json()
    assert (note["status"], note["version"], note["amends"]) == ("draft", 1, None)

    # when it is edited, coded, signed and amended
    response = doctor_api.patch(_note_url_id(note), {"assessment": "Unstable angina"}, format="json")
    assert response.status_code == 200 and response.json()["assessment"] == "Unstable angina"
    response = doctor_api.put(
        _note_url_id(note, "diagnoses"),
        {"diagnoses": [{"code": "I20.0"}, {"code": "I10", "certainty": "provisional"}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert [(d["code"], d["rank"], d["certainty"]) for d in response.json()["diagnoses"]] == [
        ("I20.0", 1, "confirmed"),
        ("I10", 2, "provisional"),
    ]
    response = doctor_api.post(_note_url_id(note, "sign"))
    assert response.status_code == 200 and response.json()["status"] == "signed"
    response = doctor_api.post(
        _note_url_id(note, "amend"), {"reason": "Wrong side", "examination": "Left chest tender"}, format="json"
    )
    assert response.status_code == 201, response.content
    amendment = response.json()

    # then v2 is a draft linked to v1, and v1 is unchanged
    assert (amendment["version"], amendment["amends"], amendment["thread"]) == (2, note["external_id"], note["thread"])
    assert [d["code"] for d in amendment["diagnoses"]] == ["I20.0", "I10"]
    v1 = ClinicalNote.objects.get(external_id=note["external_id"])
    assert (v1.status, v1.examination) == ("signed", "")
    response = doctor_api.get(_note_url_id(note, "versions"))
    assert [(v["version"], v["status"]) for v in response.json()] == [(1, "signed"), (2, "draft")]


def _note_url_id(note: dict, action=""):
    return f"/api/v1/emr/notes/{note['external_id']}/" + (f"{action}/" if action else "")


@pytest.mark.parametrize(
    ("method", "action", "payload"),
    [
        ("patch", "", {"assessment": "rewritten"}),
        ("patch", "", {"assessment": 12345678}),  # even invalid input: the note's state answers first
        ("delete", "", None),
        ("post", "sign", None),
        ("put", "diagnoses", {"diagnoses": [{"code": "R07.4"}]}),
        ("post", "provenance", {"field_name": "plan", "source": "typed"}),
    ],
)
def test_changing_a_signed_note_is_a_409_and_writes_nothing(doctor_api, signed, method, action, payload):
    before = ClinicalNote.objects.values().get(pk=signed.pk)
    log_count = AccessLog.objects.count()

    response = getattr(doctor_api, method)(_note_url(signed, action), payload, format="json")

    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "note_signed"
    assert "signed" in error["message"] and "Amend" in error["message"]
    assert ClinicalNote.objects.values().get(pk=signed.pk) == before
    assert NoteDiagnosis.objects.filter(note=signed).count() == 2
    assert not NoteFieldProvenance.objects.exists()
    assert AccessLog.objects.count() == log_count


def test_unknown_icd10_code_is_a_400_and_keeps_the_diagnoses(doctor_api, encounter, doctor):
    draft = note_create_draft(encounter=encounter, author=doctor, note_type="progress", chief_complaint="Cough")
    doctor_api.put(_note_url(draft, "diagnoses"), {"diagnoses": [{"code": "I10"}]}, format="json")

    response = doctor_api.put(
        _note_url(draft, "diagnoses"), {"diagnoses": [{"code": "I10"}, {"code": "ZZZ.9"}]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["diagnoses"] == ["Unknown ICD-10 code: ZZZ.9."]
    assert list(draft.diagnoses.values_list("icd10__code", flat=True)) == ["I10"]


def test_create_needs_an_encounter_of_this_patient(doctor_api, encounter, doctor):
    other_encounter = make_encounter(make_patient("李", "娜"), doctor)

    response = doctor_api.post(
        _notes_url(encounter.patient), {"encounter": str(other_encounter.external_id)}, format="json"
    )

    assert response.status_code == 400
    assert "encounter" in response.json()["error"]["fields"]
    assert not ClinicalNote.objects.exists()


def test_sign_without_content_is_a_400(doctor_api, encounter, doctor):
    draft = note_create_draft(encounter=encounter, author=doctor, note_type="progress", plan="Review")

    response = doctor_api.post(_note_url(draft, "sign"))

    assert response.status_code == 400
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_provenance_is_recorded_and_listed(doctor_api, encounter, doctor):
    draft = note_create_draft(encounter=encounter, author=doctor, note_type="progress", chief_complaint="Cough")
    payload = {
        "field_name": "chief_complaint",
        "source": "model",
        "model_name": "scribe",
        "model_version": "1.2",
        "confidence": "0.910",
        "span_start": 0,
        "span_end": 5,
        "source_text": "Cough for a week",
    }

    assert doctor_api.post(_note_url(draft, "provenance"), payload, format="json").status_code == 201
    bad = doctor_api.post(_note_url(draft, "provenance"), {**payload, "model_name": ""}, format="json")
    listed = doctor_api.get(_note_url(draft, "provenance")).json()

    assert bad.status_code == 400 and "model_name" in bad.json()["error"]["fields"]
    assert [(row["field_name"], row["model_name"], row["confidence"], row["span_end"]) for row in listed] == [
        ("chief_complaint", "scribe", "0.910", 5)
    ]


def test_a_doctor_who_does_not_treat_the_patient_cannot_read_or_write_notes(api_client, signed, encounter):
    stranger = make_user("stranger", "doctor")
    api_client.force_authenticate(stranger)

    assert api_client.get(_notes_url(encounter.patient)).status_code == 403
    assert api_client.get(_note_url(signed)).status_code == 403
    response = api_client.post(_notes_url(encounter.patient), {"encounter": str(encounter.external_id)}, format="json")
    assert response.status_code == 403
    assert ClinicalNote.objects.count() == 1


def test_a_nurse_on_the_care_team_reads_notes_but_cannot_write_them(api_client, signed, encounter):
    nurse = make_user("nurse", "nurse")
    add_to_care_team(encounter, nurse, role="nurse")
    api_client.force_authenticate(nurse)

    assert api_client.get(_note_url(signed)).status_code == 200
    response = api_client.post(_notes_url(encounter.patient), {"encounter": str(encounter.external_id)}, format="json")
    assert response.status_code == 403


def test_other_users_drafts_are_not_shown(doctor_api, encounter, doctor):
    resident = make_user("resident", "doctor")
    add_to_care_team(encounter, resident)
    theirs = note_create_draft(encounter=encounter, author=resident, note_type="progress", chief_complaint="x")
    mine = note_create_draft(encounter=encounter, author=doctor, note_type="progress", chief_complaint="y")
    nurse = make_user("nurse", "nurse")
    add_to_care_team(encounter, nurse, role="nurse")
    nurse_api = APIClient()
    nurse_api.force_authenticate(nurse)

    listed = [row["external_id"] for row in doctor_api.get(_notes_url(encounter.patient)).json()]

    assert listed == [str(mine.external_id)]
    # a care-team doctor may open a colleague's draft (to edit it); a nurse may not
    assert doctor_api.get(_note_url(theirs)).status_code == 200
    assert nurse_api.get(_note_url(theirs)).status_code == 404


def test_timeline_shows_current_versions_and_logs_one_read(doctor_api, encounter, doctor):
    from emr.services.notes import note_amend, note_sign

    v1 = make_signed_note(encounter, doctor)
    v2 = note_sign(note=note_amend(note=v1, amended_by=doctor, reason="Fix"), signed_by=doctor)
    reads_before = AccessLog.objects.filter(action="read").count()

    body = doctor_api.get(_notes_url(encounter.patient)).json()

    assert [(row["external_id"], row["version"]) for row in body] == [(str(v2.external_id), 2)]
    entries = AccessLog.objects.filter(action="read")
    assert entries.count() == reads_before + 1
    assert entries.last().detail == {"list": True, "count": 1}


def test_timeline_query_count_does_not_grow_with_notes(doctor_api, encounter, doctor):
    make_signed_note(encounter, doctor)
    doctor_api.get(_notes_url(encounter.patient))  # warm the permission cache of the user

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert doctor_api.get(_notes_url(encounter.patient)).status_code == 200
        return len(queries)

    few = count()
    for _ in range(5):
        make_signed_note(encounter, doctor)
    note_create_draft(encounter=encounter, author=doctor, note_type="progress", chief_complaint="draft")

    # access check 1, notes 1, diagnoses 1, access-log entry 4 (+ 2 savepoints inside the test's transaction)
    assert count() == few == 9
