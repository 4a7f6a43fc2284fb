"""patient_search and GET /api/v1/emr/patients/?q=: MRN, identifiers through the blind index, names by trigram."""

from datetime import date

import pytest
from django.utils import timezone

from emr.models import Encounter, Patient
from emr.selectors.patients import patient_search
from emr.services.patients import patient_create
from hospital.core.models import AccessLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/emr/patients/"
NATIONAL_ID = "11010519491231002X"


@pytest.fixture
def patients(doctor):
    """Four patients the doctor treats, one the doctor does not treat."""
    clerk = UserFactory(username="clerk", roles=["records_archivist", "doctor"])
    made = {
        "li": patient_create(
            created_by=clerk, family_name="李", given_name="秀英", sex="female", birth_date=date(1949, 12, 31),
            national_id=NATIONAL_ID, phone="13800138000",
        ),
        "smith": patient_create(
            created_by=clerk, family_name="Smith", given_name="Anna", sex="female", birth_date=date(1980, 3, 4),
            phone="+44 20 7946 0018", insurance_number="INS-778812",
        ),
        "liu": patient_create(
            created_by=clerk, family_name="刘", given_name="洋", sex="male", birth_date=date(1990, 1, 1)
        ),
        "jones": patient_create(
            created_by=clerk, family_name="Jones", given_name="Anna", sex="female", birth_date=date(1975, 6, 7)
        ),
        "stranger": patient_create(
            created_by=clerk, family_name="李", given_name="秀兰", sex="female", birth_date=date(1950, 1, 1),
            phone="13900000000",
        ),
    }  # fmt: skip
    for key, patient in made.items():
        if key != "stranger":
            Encounter.objects.create(
                patient=patient, encounter_class="outpatient", started_at=timezone.now(), attending=doctor
            )
    return made


def _search(doctor, query):
    return patient_search(query=query, fetched_by=doctor)


@pytest.mark.parametrize(
    "typed", ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "１３８００１３８０００"]
)
def test_phone_typed_any_way_finds_the_patient(doctor, patients, typed):
    assert _search(doctor, typed) == [patients["li"]]


@pytest.mark.parametrize("typed", [NATIONAL_ID, NATIONAL_ID.lower(), "110105 19491231 002x"])
def test_national_id_finds_the_patient(doctor, patients, typed):
    assert _search(doctor, typed) == [patients["li"]]


def test_insurance_number_finds_the_patient(doctor, patients):
    assert _search(doctor, "ins 778812") == [patients["smith"]]


def test_chinese_name_with_a_wrong_character_finds_the_patient(doctor, patients):
    assert _search(doctor, "李秀瑛") == [patients["li"]]  # 瑛 for 英


def test_latin_name_in_either_order_with_a_typo_or_a_prefix(doctor, patients):
    assert _search(doctor, "Anna Smith")[0] == patients["smith"]
    assert _search(doctor, "smith anna")[0] == patients["smith"]
    assert _search(doctor, "Ana Smith")[0] == patients["smith"]
    assert _search(doctor, "Smi") == [patients["smith"]]
    assert set(_search(doctor, "anna")) == {patients["smith"], patients["jones"]}


def test_a_surname_alone_lists_that_family(doctor, patients):
    assert _search(doctor, "刘") == [patients["liu"]]


def test_mrn_exact_and_prefix(doctor, patients):
    mrn = patients["liu"].mrn
    assert _search(doctor, mrn.lower()) == [patients["liu"]]
    assert patients["liu"] in _search(doctor, mrn[:-1])
    assert _search(doctor, str(int(mrn[3:]))) == [patients["liu"]]


def test_search_is_scoped_to_the_patients_the_user_may_see(doctor, patients):
    # The doctor does not treat 李秀兰; a records archivist finds her.
    assert _search(doctor, "13900000000") == []
    assert patients["stranger"] not in _search(doctor, "李秀")
    archivist = UserFactory(username="archivist", roles=["records_archivist"])
    assert _search(archivist, "13900000000") == [patients["stranger"]]


def test_merged_away_patients_are_not_found(doctor, patients):
    Patient.objects.filter(pk=patients["jones"].pk).update(is_active=False)
    assert _search(doctor, "anna") == [patients["smith"]]


def test_one_search_entry_with_kind_and_count_and_never_the_identifier(doctor, patients):
    before = AccessLog.objects.count()

    _search(doctor, "138 0013 8000")

    assert AccessLog.objects.count() == before + 1
    entry = AccessLog.objects.order_by("-id").first()
    assert (entry.action, entry.actor_id, entry.patient_external_id) == ("search", doctor.pk, None)
    assert entry.detail == {"kind": "identifier", "results": 1}
    logged = " ".join(str(getattr(entry, f.attname)) for f in AccessLog._meta.concrete_fields)
    assert "13800138000" not in logged and "0013" not in logged


def test_search_query_count_is_pinned(doctor, patients, django_assert_num_queries):
    doctor.has_perm("emr.view_patient")  # permissions and roles are cached on the user, as within a request
    doctor.has_role("doctor")
    # ONE search query, then the access-log entry (savepoint, chain lock, previous hash, id, insert, release)
    with django_assert_num_queries(7):
        found = _search(doctor, "Anna")
    assert len(found) == 2


def test_the_api_returns_masked_identifiers_and_logs_one_search(doctor_api, doctor, patients):
    response = doctor_api.get(URL, {"q": "李秀英"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["kind"], body["count"]) == ("name", 1)
    [hit] = body["results"]
    assert hit["mrn"] == patients["li"].mrn
    assert hit["phone_masked"] == "*******8000"
    assert hit["national_id_masked"] == "1101**********002X"
    assert "national_id" not in hit and "phone" not in hit
    assert AccessLog.objects.filter(action="search").count() == 1


def test_the_api_query_count_does_not_grow_with_results(doctor_api, doctor, patients, django_assert_max_num_queries):
    doctor_api.get(URL, {"q": "anna"})  # warm the permission caches
    with django_assert_max_num_queries(8):
        response = doctor_api.get(URL, {"q": "anna", "limit": 10})
    assert response.json()["count"] == 2


def test_the_api_refuses_users_without_view_permission(api_client, patients):
    api_client.force_authenticate(UserFactory(username="auditor", roles=["auditor"]))
    assert api_client.get(URL, {"q": "anna"}).status_code == 403
    assert not AccessLog.objects.filter(action="search").exists()
