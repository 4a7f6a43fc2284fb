"""Recording vitals, the note editor (draft, sign, amend), the ICD-10 picker, note print and note search."""

import pytest

from emr.models import ClinicalNote, NoteDiagnosis, Observation
from hospital.core.models import AccessLog

pytestmark = pytest.mark.django_db


def test_a_nurse_of_the_ward_records_vitals_and_bad_values_write_nothing(login, treating_doctor, patient):
    client = login(treating_doctor)
    url = f"/patients/{patient.external_id}/vitals/new/"
    assert client.get(url).status_code == 200

    bad = client.post(url, {"heart_rate": "80", "spo2": "150"})
    assert bad.status_code == 400 and "SpO2" in bad.content.decode()
    assert not Observation.objects.exists()

    good = client.post(url, {"heart_rate": "80", "spo2": "97", "supplemental_oxygen": "false"})
    assert good.status_code == 302
    assert set(Observation.objects.values_list("code", flat=True)) == {"heart_rate", "spo2", "supplemental_oxygen"}


def test_an_other_ward_nurse_cannot_record_vitals(login, other_ward_nurse, patient):
    response = login(other_ward_nurse).post(f"/patients/{patient.external_id}/vitals/new/", {"heart_rate": "80"})
    assert response.status_code == 403 and not Observation.objects.exists()


def _note_data(**extra):
    return {"note_type": "outpatient", "chief_complaint": "Cough for three days", "assessment": "Pneumonia", **extra}


def test_draft_sign_and_amend(login, treating_doctor, patient, encounter):
    client = login(treating_doctor)
    new_url = f"/patients/{patient.external_id}/notes/new/?encounter={encounter.external_id}"
    assert client.get(new_url).status_code == 200

    # an unknown ICD-10 code: 400, the error shown, nothing written
    bad = client.post(new_url, _note_data(dx_code="Q99.99X", dx_certainty="confirmed", action="save"))
    assert bad.status_code == 400 and "Q99.99X" in bad.content.decode()
    assert not ClinicalNote.objects.exists()

    saved = client.post(
        new_url,
        _note_data(dx_code="J18.9", dx_certainty="provisional", action="sign", **{"vs-heart_rate": "101"}),
    )
    note = ClinicalNote.objects.get()
    assert saved["Location"] == f"/patients/notes/{note.external_id}/sign/"
    assert NoteDiagnosis.objects.get(note=note).certainty == "provisional"
    assert Observation.objects.get(note=note).value_numeric == 101

    assert "sign-confirm" in client.get(saved["Location"]).content.decode()
    assert client.post(saved["Location"]).status_code == 302
    note.refresh_from_db()
    assert note.status == "signed"

    # a signed note is never edited: the editor sends the user to the read-only view
    edit = client.post(f"/patients/notes/{note.external_id}/edit/", _note_data(chief_complaint="changed"))
    assert edit.status_code == 302 and edit["Location"] == f"/patients/notes/{note.external_id}/"
    note.refresh_from_db()
    assert note.chief_complaint == "Cough for three days"

    detail = client.get(f"/patients/notes/{note.external_id}/")
    assert 'data-testid="amend-form"' in detail.content.decode()
    assert client.post(f"/patients/notes/{note.external_id}/amend/", {"reason": ""}).status_code == 400
    amended = client.post(f"/patients/notes/{note.external_id}/amend/", {"reason": "Wrong side in the exam"})
    v2 = ClinicalNote.objects.get(version=2)
    assert amended["Location"] == f"/patients/notes/{v2.external_id}/edit/"
    assert v2.amends == note and v2.status == "draft"


def test_the_icd10_picker_finds_codes(login, treating_doctor):
    response = login(treating_doctor).get("/patients/icd10/", {"icd10_query": "J18"})
    assert response.status_code == 200 and 'data-code="J18.9"' in response.content.decode()


def test_note_print_is_logged_and_note_search_highlights(login, treating_doctor, patient, encounter):
    client = login(treating_doctor)
    client.post(
        f"/patients/{patient.external_id}/notes/new/?encounter={encounter.external_id}", _note_data(action="save")
    )
    note = ClinicalNote.objects.get()
    client.post(f"/patients/notes/{note.external_id}/sign/")

    assert client.get(f"/patients/notes/{note.external_id}/print/").status_code == 200
    assert AccessLog.objects.filter(action="print", object_id=str(note.external_id)).count() == 1

    found = client.get("/patients/notes/search/", {"q": "cough"})
    assert found.status_code == 200 and "<mark>" in found.content.decode()


def test_note_search_is_scoped(login, other_ward_nurse, treating_doctor, patient, encounter):
    doctor = login(treating_doctor)
    doctor.post(
        f"/patients/{patient.external_id}/notes/new/?encounter={encounter.external_id}", _note_data(action="save")
    )
    doctor.post(f"/patients/notes/{ClinicalNote.objects.get().external_id}/sign/")
    response = login(other_ward_nurse).get("/patients/notes/search/", {"q": "cough"})
    assert response.status_code == 200 and "<mark>" not in response.content.decode()
