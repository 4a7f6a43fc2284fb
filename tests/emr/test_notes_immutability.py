"""The database itself refuses any change to a signed note, its diagnoses and its provenance."""

import pytest
from django.db import connection, transaction
from django.db.utils import InternalError

from emr.models import ClinicalNote, Icd10Code, NoteDiagnosis, NoteFieldProvenance
from emr.services.notes import note_create_draft
from tests.emr.test_notes_support import make_encounter, make_icd10, make_patient, make_signed_note

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(doctor):
    make_icd10()
    note = make_signed_note(make_encounter(make_patient(), doctor), doctor)
    return note


def _sql(statement: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_raw_update_of_a_signed_note_is_refused(signed):
    with pytest.raises(InternalError, match="is signed and cannot be changed; amend it instead"):
        _sql("UPDATE emr_clinicalnote SET assessment = 'tampered' WHERE id = %s", [signed.pk])

    signed.refresh_from_db()
    assert signed.assessment == "Unstable angina"


def test_even_a_no_op_update_or_unsigning_is_refused(signed):
    with pytest.raises(InternalError, match="cannot be changed"):
        _sql(
            "UPDATE emr_clinicalnote SET status = 'draft', signed_at = NULL, signed_by_id = NULL WHERE id = %s",
            [signed.pk],
        )
    with pytest.raises(InternalError, match="cannot be changed"):
        _sql("UPDATE emr_clinicalnote SET id = id WHERE id = %s", [signed.pk])


def test_raw_delete_of_a_signed_note_is_refused(signed):
    with pytest.raises(InternalError, match="is signed and cannot be deleted; amend it instead"):
        _sql("DELETE FROM emr_clinicalnote WHERE id = %s", [signed.pk])

    assert ClinicalNote.objects.filter(pk=signed.pk).exists()


def test_orm_save_of_a_signed_note_is_refused(signed):
    signed.plan = "changed through the ORM"
    with pytest.raises(InternalError, match="cannot be changed"), transaction.atomic():
        signed.save()


def test_diagnoses_of_a_signed_note_cannot_be_added_changed_or_removed(signed):
    extra = Icd10Code.objects.get(code="R07.4")
    existing = signed.diagnoses.get(rank=1)

    with pytest.raises(InternalError, match="is signed: its diagnoses cannot be changed"), transaction.atomic():
        NoteDiagnosis.objects.create(note=signed, icd10=extra, rank=3)
    with pytest.raises(InternalError, match="its diagnoses cannot be changed"):
        _sql("UPDATE emr_notediagnosis SET certainty = 'differential' WHERE id = %s", [existing.pk])
    with pytest.raises(InternalError, match="its diagnoses cannot be changed"):
        _sql("DELETE FROM emr_notediagnosis WHERE id = %s", [existing.pk])

    assert list(signed.diagnoses.values_list("icd10__code", "certainty")) == [
        ("I20.0", "confirmed"),
        ("I10", "provisional"),
    ]


def test_provenance_of_a_signed_note_cannot_be_added(signed):
    with pytest.raises(InternalError, match="is signed: its provenance cannot be changed"), transaction.atomic():
        NoteFieldProvenance.objects.create(note=signed, field_name="plan", source="typed")

    assert not signed.provenance.exists()


def test_a_draft_may_be_edited_deleted_and_signed_once(doctor):
    make_icd10()
    encounter = make_encounter(make_patient(), doctor)
    draft = note_create_draft(encounter=encounter, author=doctor, note_type="progress", chief_complaint="Cough")
    _sql("UPDATE emr_clinicalnote SET plan = 'Rest' WHERE id = %s", [draft.pk])
    NoteDiagnosis.objects.create(note=draft, icd10=Icd10Code.objects.get(code="I10"))
    _sql(
        "UPDATE emr_clinicalnote SET status = 'signed', signed_at = now(), signed_by_id = %s WHERE id = %s",
        [doctor.pk, draft.pk],
    )
    draft.refresh_from_db()
    assert (draft.status, draft.plan) == ("signed", "Rest")

    other = note_create_draft(encounter=encounter, author=doctor, note_type="progress")
    _sql("DELETE FROM emr_clinicalnote WHERE id = %s", [other.pk])
    assert not ClinicalNote.objects.filter(pk=other.pk).exists()


def test_patient_merge_may_repoint_a_signed_note_and_nothing_else(signed, doctor):
    survivor = make_patient("张", "伟明")

    with pytest.raises(InternalError, match="cannot be changed"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('emr.patient_merge', 'on', true)")
        cursor.execute(
            "UPDATE emr_clinicalnote SET patient_id = %s, plan = 'sneaked in' WHERE id = %s",
            [survivor.pk, signed.pk],
        )
    with pytest.raises(InternalError, match="cannot be changed"):
        _sql("UPDATE emr_clinicalnote SET patient_id = %s WHERE id = %s", [survivor.pk, signed.pk])

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('emr.patient_merge', 'on', true)")
        cursor.execute("UPDATE emr_clinicalnote SET patient_id = %s WHERE id = %s", [survivor.pk, signed.pk])

    signed.refresh_from_db()
    assert (signed.patient_id, signed.plan, signed.status) == (survivor.pk, "", "signed")


def test_search_vector_is_computed_on_insert_and_kept_current_for_drafts(doctor):
    encounter = make_encounter(make_patient(), doctor)
    draft = note_create_draft(encounter=encounter, author=doctor, note_type="progress", chief_complaint="患者胸痛三天")

    def matches(tsquery: str) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT search_vector @@ to_tsquery('simple', %s) FROM emr_clinicalnote WHERE id = %s",
                [tsquery, draft.pk],
            )
            return cursor.fetchone()[0]

    assert matches("胸痛") and matches("患者") and matches("天")
    _sql("UPDATE emr_clinicalnote SET chief_complaint = 'Fever and cough' WHERE id = %s", [draft.pk])
    assert matches("cough") and not matches("胸痛")
