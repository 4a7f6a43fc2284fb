"""Services of structured notes: drafts, diagnoses, provenance, signing, amendments."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from emr.models import ClinicalNote, NoteDiagnosis, NoteFieldProvenance
from emr.services.notes import (
    SignedNoteError,
    note_amend,
    note_create_draft,
    note_delete_draft,
    note_record_provenance,
    note_set_diagnoses,
    note_sign,
    note_update_draft,
)
from emr.services.observations import vital_signs_record
from hospital.core.models import AccessLog
from tests.emr.test_notes_support import (
    add_to_care_team,
    log_actions,
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
def draft(encounter, doctor):
    return note_create_draft(
        encounter=encounter, author=doctor, note_type="outpatient", chief_complaint="Chest pain for 3 days"
    )


def test_create_draft_starts_a_thread_at_version_1_and_logs_it(encounter, doctor):
    note = note_create_draft(
        encounter=encounter, author=doctor, note_type="admission", chief_complaint="胸痛", plan="ECG"
    )

    assert (note.status, note.version, note.patient_id, note.amends_id) == ("draft", 1, encounter.patient_id, None)
    assert note.thread
    entry = AccessLog.objects.get()
    assert (entry.action, entry.object_id, entry.patient_external_id) == (
        "create",
        str(note.external_id),
        encounter.patient.external_id,
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"note_type": "poem"}, "note_type"),
        ({"note_type": "progress", "diagnosis": "x"}, "diagnosis"),
        ({"note_type": "progress", "plan": 42}, "plan"),
    ],
)
def test_create_draft_rejects_bad_fields_and_writes_nothing(encounter, doctor, kwargs, field):
    with pytest.raises(ValidationError) as error:
        note_create_draft(encounter=encounter, author=doctor, **kwargs)

    assert field in error.value.message_dict
    assert not ClinicalNote.objects.exists()
    assert not AccessLog.objects.exists()


def test_author_and_care_team_doctors_may_edit_a_draft_others_may_not(draft, encounter):
    resident = make_user("resident", "doctor")
    add_to_care_team(encounter, resident)
    stranger = make_user("stranger", "doctor")
    nurse_on_team = make_user("nurse", "nurse")
    add_to_care_team(encounter, nurse_on_team, role="nurse")

    edited = note_update_draft(note=draft, edited_by=resident, plan="Aspirin 300 mg", note_type="progress")
    assert (edited.plan, edited.note_type) == ("Aspirin 300 mg", "progress")
    for user in (stranger, nurse_on_team):
        with pytest.raises(PermissionDenied):
            note_update_draft(note=draft, edited_by=user, plan="overwritten")
    draft.refresh_from_db()
    assert draft.plan == "Aspirin 300 mg"
    assert AccessLog.objects.filter(action="write").get().detail == {"fields": ["note_type", "plan"]}


def test_update_of_a_signed_note_is_refused_by_the_service(encounter, doctor):
    signed = make_signed_note(encounter, doctor)

    with pytest.raises(SignedNoteError, match="Amend it instead"):
        note_update_draft(note=signed, edited_by=doctor, plan="changed")
    with pytest.raises(SignedNoteError):
        note_set_diagnoses(note=signed, diagnoses=[("I10", None)], set_by=doctor)
    with pytest.raises(SignedNoteError):
        note_record_provenance(note=signed, field_name="plan", source="typed")
    with pytest.raises(SignedNoteError):
        note_sign(note=signed, signed_by=doctor)
    with pytest.raises(SignedNoteError):
        note_delete_draft(note=signed, deleted_by=doctor)
    signed.refresh_from_db()
    assert signed.plan == ""


def test_set_diagnoses_replaces_them_in_rank_order(draft, doctor):
    note_set_diagnoses(note=draft, diagnoses=[("R07.4", "provisional")], set_by=doctor)
    note_set_diagnoses(note=draft, diagnoses=[("i200", None), ("I10", "differential")], set_by=doctor)

    assert list(draft.diagnoses.values_list("icd10__code", "rank", "certainty")) == [
        ("I20.0", 1, "confirmed"),
        ("I10", 2, "differential"),
    ]


@pytest.mark.parametrize(
    ("diagnoses", "message"),
    [
        ([("I10", None), ("Q99.X9", None)], "Unknown ICD-10 code: Q99.X9."),
        ([("I20-I25", None)], "is a group of diagnoses"),
        ([("I10", None), ("I10", "provisional")], "I10 is listed twice."),
        ([("I10", "maybe")], "Unknown certainty"),
    ],
)
def test_bad_diagnoses_are_refused_and_the_old_ones_kept(draft, doctor, diagnoses, message):
    note_set_diagnoses(note=draft, diagnoses=[("R07.4", None)], set_by=doctor)

    with pytest.raises(ValidationError) as error:
        note_set_diagnoses(note=draft, diagnoses=diagnoses, set_by=doctor)

    assert any(message in text for text in error.value.message_dict["diagnoses"])
    assert list(draft.diagnoses.values_list("icd10__code", flat=True)) == ["R07.4"]


def test_provenance_of_a_model_suggestion_is_stored(draft, doctor):
    row = note_record_provenance(
        note=draft,
        field_name="chief_complaint",
        source="model",
        model_name="scribe-extractor",
        model_version="2026.1",
        confidence=0.87,
        span=(10, 31),
        source_text="Doctor: what brings you in? Patient: chest pain for three days.",
        recorded_by=doctor,
    )

    stored = NoteFieldProvenance.objects.get(pk=row.pk)
    assert (stored.field_name, stored.source, stored.model_name, stored.model_version) == (
        "chief_complaint",
        "model",
        "scribe-extractor",
        "2026.1",
    )
    assert (stored.confidence, stored.span_start, stored.span_end) == (Decimal("0.870"), 10, 31)
    assert AccessLog.objects.filter(action="write").get().detail == {"provenance": "chief_complaint", "source": "model"}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"field_name": "mood", "source": "typed"}, "field_name"),
        ({"field_name": "plan", "source": "model"}, "model_name"),
        ({"field_name": "plan", "source": "typed", "confidence": 1.5}, "confidence"),
        ({"field_name": "plan", "source": "typed", "span": (9, 3)}, "span"),
        ({"field_name": "plan", "source": "gossip"}, "source"),
    ],
)
def test_bad_provenance_is_refused(draft, kwargs, field):
    with pytest.raises(ValidationError) as error:
        note_record_provenance(note=draft, **kwargs)

    assert field in error.value.message_dict
    assert not NoteFieldProvenance.objects.exists()


def test_sign_sets_signer_and_time_and_logs_sign(draft, doctor):
    signed = note_sign(note=draft, signed_by=doctor)

    assert (signed.status, signed.signed_by, signed.signed_at is not None) == ("signed", doctor, True)
    assert log_actions() == ["create", "sign"]


def test_sign_needs_a_chief_complaint_or_an_assessment(encounter, doctor):
    empty = note_create_draft(encounter=encounter, author=doctor, note_type="progress", plan="Review tomorrow")

    with pytest.raises(ValidationError, match="chief complaint or an assessment"):
        note_sign(note=empty, signed_by=doctor)
    empty.refresh_from_db()
    assert empty.status == "draft"


def test_only_doctors_who_wrote_the_note_or_treat_the_patient_sign(draft, encounter):
    stranger = make_user("stranger", "doctor")
    nurse = make_user("nurse", "nurse")
    add_to_care_team(encounter, nurse, role="nurse")
    consultant = make_user("consultant", "doctor")
    add_to_care_team(encounter, consultant, role="consultant")

    for user in (stranger, nurse):
        with pytest.raises(PermissionDenied):
            note_sign(note=draft, signed_by=user)
    assert note_sign(note=draft, signed_by=consultant).signed_by == consultant


def test_amend_creates_a_linked_version_and_leaves_the_signed_one_unchanged(encounter, doctor):
    v1 = make_signed_note(encounter, doctor)
    note_before = ClinicalNote.objects.values().get(pk=v1.pk)

    v2 = note_amend(note=v1, amended_by=doctor, reason="Troponin came back raised", assessment="NSTEMI")

    assert (v2.status, v2.version, v2.thread, v2.amends_id) == ("draft", 2, v1.thread, v1.pk)
    assert (v2.chief_complaint, v2.assessment, v2.amendment_reason) == (
        "Chest pain for 3 days",
        "NSTEMI",
        "Troponin came back raised",
    )
    assert list(v2.diagnoses.values_list("icd10__code", "certainty")) == [
        ("I20.0", "confirmed"),
        ("I10", "provisional"),
    ]
    assert ClinicalNote.objects.values().get(pk=v1.pk) == note_before
    assert AccessLog.objects.order_by("-id").first().detail["amends"] == str(v1.external_id)

    v2 = note_sign(note=v2, signed_by=doctor)
    assert v2.status == "signed"
    assert NoteDiagnosis.objects.filter(note=v1).count() == 2


def test_amend_copies_provenance_of_unchanged_fields_only(encounter, doctor):
    draft = note_create_draft(encounter=encounter, author=doctor, note_type="progress", chief_complaint="Cough")
    note_record_provenance(note=draft, field_name="chief_complaint", source="dictated")
    note_record_provenance(note=draft, field_name="assessment", source="model", model_name="m", confidence=0.5)
    v1 = note_sign(note=draft, signed_by=doctor)

    v2 = note_amend(note=v1, amended_by=doctor, reason="Typo", assessment="Viral bronchitis")

    assert list(v2.provenance.values_list("field_name", "source")) == [("chief_complaint", "dictated")]


def test_only_the_newest_signed_version_can_be_amended_and_once_at_a_time(encounter, doctor):
    v1 = make_signed_note(encounter, doctor)

    with pytest.raises(ValidationError, match="State why"):
        note_amend(note=v1, amended_by=doctor, reason="  ")
    v2 = note_amend(note=v1, amended_by=doctor, reason="First correction")
    with pytest.raises(ValidationError, match="already in progress"):
        note_amend(note=v1, amended_by=doctor, reason="Second correction")
    with pytest.raises(ValidationError, match="Only a signed note"):
        note_amend(note=v2, amended_by=doctor, reason="Amending a draft")
    note_sign(note=v2, signed_by=doctor)
    with pytest.raises(ValidationError, match="amend the newest version"):
        note_amend(note=v1, amended_by=doctor, reason="Old version")
    with pytest.raises(PermissionDenied):
        note_amend(note=v2, amended_by=make_user("stranger", "doctor"), reason="Not my patient")
    assert ClinicalNote.objects.filter(thread=v1.thread).count() == 2


def test_discarding_a_draft_keeps_its_vital_signs(draft, doctor, encounter):
    vitals = vital_signs_record(patient=encounter.patient, note=draft, recorded_by=doctor, heart_rate=88)

    with pytest.raises(PermissionDenied):
        note_delete_draft(note=draft, deleted_by=make_user("other", "doctor"))
    note_delete_draft(note=draft, deleted_by=doctor)

    assert not ClinicalNote.objects.exists()
    vitals[0].refresh_from_db()
    assert (vitals[0].note_id, vitals[0].encounter_id) == (None, encounter.pk)
    assert log_actions()[-1] == "delete"
