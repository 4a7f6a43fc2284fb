"""Full-text search across notes: English and Chinese, ranked, with snippets, scoped and logged once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from emr.selectors.notes import note_search
from emr.services.notes import note_amend, note_create_draft, note_sign
from hospital.core.models import AccessLog
from tests.emr.test_notes_support import add_to_care_team, make_encounter, make_patient, make_user

pytestmark = pytest.mark.django_db

SEARCH_URL = "/api/v1/emr/notes/search/"


@pytest.fixture
def encounter(doctor):
    return make_encounter(make_patient(), doctor)


def _signed(encounter, author, **fields):
    note = note_create_draft(encounter=encounter, author=author, note_type="progress", **fields)
    return note_sign(note=note, signed_by=author)


def _found(query, user) -> list:
    return [hit.note for hit in note_search(query=query, fetched_by=user)]


def test_english_words_are_found_whatever_their_case(encounter, doctor):
    chest = _signed(encounter, doctor, chief_complaint="Chest pain for 3 days")
    _signed(encounter, doctor, chief_complaint="Cough", plan="Chest X-ray if no better")

    assert _found("chest pain", doctor) == [chest]
    assert _found("CHEST   Pain!", doctor) == [chest]
    assert _found("pain cough", doctor) == []


def test_chinese_words_are_found_inside_unsegmented_text(encounter, doctor):
    chest = _signed(encounter, doctor, chief_complaint="患者胸痛三天，伴出汗")
    _signed(encounter, doctor, chief_complaint="头痛两天", assessment="偏头痛")

    assert _found("胸痛", doctor) == [chest]
    assert _found("胸痛三天", doctor) == [chest]
    assert _found("痛三天", doctor) == [chest]
    # the characters must be adjacent and in order: 三天胸痛 is not in the note
    assert _found("三天胸痛", doctor) == []
    assert _found("出汗 胸痛", doctor) == [chest]
    assert len(_found("痛", doctor)) == 2  # one character: every note containing it


def test_mixed_chinese_and_english(encounter, doctor):
    note = _signed(encounter, doctor, chief_complaint="患者chest pain，心电图ST段压低", assessment="NSTEMI")

    assert _found("chest 心电图", doctor) == [note]
    assert _found("nstemi ST段", doctor) == [note]
    assert _found("chest 头痛", doctor) == []


def test_chief_complaint_and_assessment_rank_above_the_plan(encounter, doctor):
    in_plan = _signed(encounter, doctor, chief_complaint="Follow-up", plan="Watch for syncope")
    in_complaint = _signed(encounter, doctor, chief_complaint="Syncope at home")

    assert _found("syncope", doctor) == [in_complaint, in_plan]


def test_only_current_versions_and_own_drafts_are_searched(encounter, doctor):
    v1 = _signed(encounter, doctor, chief_complaint="Chest pain", assessment="Angina")
    amendment = note_amend(note=v1, amended_by=doctor, reason="Fix", assessment="Pericarditis")
    v2 = note_sign(note=amendment, signed_by=doctor)
    colleague = make_user("resident", "doctor")
    add_to_care_team(encounter, colleague)
    colleague_draft = note_create_draft(
        encounter=encounter, author=colleague, note_type="progress", chief_complaint="Chest pain again"
    )

    assert _found("chest pain", doctor) == [v2]
    assert _found("angina", doctor) == []
    assert set(_found("chest pain", colleague)) == {v2, colleague_draft}


def test_notes_of_patients_the_user_does_not_treat_are_not_returned(encounter, doctor):
    mine = _signed(encounter, doctor, chief_complaint="Chest pain")
    other_doctor = make_user("other", "doctor")
    _signed(make_encounter(make_patient("李", "娜"), other_doctor), other_doctor, chief_complaint="Chest pain too")
    archivist = make_user("archivist", "records_archivist")

    assert _found("chest pain", doctor) == [mine]
    assert len(_found("chest pain", other_doctor)) == 1 and mine not in _found("chest pain", other_doctor)
    assert _found("chest pain", archivist) == []


def test_snippets_mark_matches_and_escape_the_note_text(encounter, doctor):
    _signed(
        encounter,
        doctor,
        chief_complaint="Seen in clinic. Chest pain, SBP < 90 & HR > 120 <script>alert(1)</script> since this morning",
    )
    _signed(encounter, doctor, chief_complaint="患者于三天前无明显诱因出现胸痛，呈压榨样，持续约十分钟<后缓解>")

    english = note_search(query="chest pain", fetched_by=doctor)[0].snippet
    chinese = note_search(query="胸痛", fetched_by=doctor)[0].snippet

    assert "<mark>Chest</mark> <mark>pain</mark>" in english
    assert "<script" not in english and "SBP &lt; 90 &amp; HR &gt; 120" in english
    assert "<mark>胸痛</mark>" in chinese and "&lt;后缓解&gt;" in chinese


def test_search_logs_one_entry_without_the_search_text(encounter, doctor):
    note = _signed(encounter, doctor, chief_complaint="Chest pain")
    before = AccessLog.objects.count()

    note_search(query="chest 110101199003071234", fetched_by=doctor)
    note_search(query="chest", fetched_by=doctor)

    entries = list(AccessLog.objects.order_by("id")[before:])
    assert [entry.action for entry in entries] == ["search", "search"]
    assert entries[0].detail["results"] == 0
    assert entries[1].detail == {
        "query_kind": "full_text",
        "script": "latin",
        "results": 1,
        "patients": [str(note.patient.external_id)],
    }
    assert all("110101199003071234" not in str(entry.detail) for entry in entries)


def test_search_api_returns_hits_with_a_fixed_number_of_queries(doctor_api, encounter, doctor):
    _signed(encounter, doctor, chief_complaint="Chest pain")
    doctor_api.get(SEARCH_URL, {"q": "chest"})  # warm the permission cache of the user

    def run():
        with CaptureQueriesContext(connection) as queries:
            response = doctor_api.get(SEARCH_URL, {"q": "chest pain"})
        assert response.status_code == 200
        return response.json(), len(queries)

    body, few = run()
    for index in range(5):
        _signed(make_encounter(make_patient("王", f"{index}"), doctor), doctor, chief_complaint="Chest pain")
    more, many = run()

    assert body[0]["snippet"] == "<mark>Chest</mark> <mark>pain</mark>"
    assert body[0]["mrn"] == encounter.patient.mrn
    assert len(more) == 6
    # notes 1, access-log entry 4 (+ 2 savepoints inside the test's transaction)
    assert few == many == 7


def test_search_api_wants_words(doctor_api):
    response = doctor_api.get(SEARCH_URL, {"q": "   "})

    assert response.status_code == 400
    assert "q" in response.json()["error"]["fields"]
    assert not AccessLog.objects.exists()


def test_search_api_is_for_roles_that_read_notes(api_client):
    api_client.force_authenticate(make_user("cashier", "finance_officer"))

    assert api_client.get(SEARCH_URL, {"q": "chest"}).status_code == 403
