"""Patient search and registration pages."""

from datetime import date

import pytest

from emr.models import Encounter, Patient
from hospital.core.models import AccessLog
from tests.emr.test_access_support import make_patient

pytestmark = pytest.mark.django_db


def test_search_finds_treated_patients_by_name_and_logs_one_search(login, treating_doctor, patient):
    client = login(treating_doctor)
    make_patient("王", "芳")  # same name, not treated by this doctor: out of scope

    response = client.get("/patients/", {"q": "王芳"})

    assert response.status_code == 200
    html = response.content.decode()
    assert patient.mrn in html and html.count("<tr>") == 2  # header + one patient
    assert "<html" in html  # a whole page without htmx
    entry = AccessLog.objects.filter(action="search").get()
    assert entry.detail["results"] == 1 and "王芳" not in str(entry.detail)


def test_htmx_gets_only_the_results_and_their_queries_are_pinned(
    login, treating_doctor, patient, django_assert_num_queries
):
    client = login(treating_doctor)
    client.get("/patients/", {"q": patient.mrn})
    with django_assert_num_queries(16):
        response = client.get("/patients/", {"q": patient.mrn}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and patient.mrn in html


def test_search_is_refused_to_roles_without_patients(login, db):
    from tests.emr.test_access_support import make_user

    assert login(make_user("cashier", "finance_officer")).get("/patients/", {"q": "x"}).status_code == 403


def test_registration_warns_about_a_likely_duplicate_then_registers_anyway(login, treating_doctor):
    existing = Patient.objects.create(family_name="李", given_name="明", sex="male", birth_date=date(1980, 5, 4))
    client = login(treating_doctor)
    data = {
        "family_name": "李", "given_name": "明", "sex": "male", "birth_date": "1980-05-04",
        "allergy_status": "no_known_allergies", "start_encounter": "outpatient",
    }  # fmt: skip

    warned = client.post("/patients/new/", data)

    assert warned.status_code == 200
    html = warned.content.decode()
    assert 'data-testid="duplicate-warning"' in html and existing.mrn in html
    assert "similar name and same birth date" in html
    assert Patient.objects.count() == 1

    registered = client.post("/patients/new/", {**data, "not_duplicate": "on"})

    assert registered.status_code == 302
    new = Patient.objects.exclude(pk=existing.pk).get()
    assert registered["Location"] == f"/patients/{new.external_id}/"
    assert new.allergy_status == "no_known_allergies"
    assert Encounter.objects.get(patient=new).attending == treating_doctor
    assert client.get(registered["Location"]).status_code == 200  # the registering doctor attends


def test_bad_registration_shows_field_errors_and_writes_nothing(login, treating_doctor):
    response = login(treating_doctor).post(
        "/patients/new/",
        {"family_name": "Smith", "given_name": "Anna", "sex": "female", "birth_date": "2999-01-01",
         "allergy_status": "unknown", "start_encounter": ""},
    )  # fmt: skip
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assert Patient.objects.count() == 0 and not AccessLog.objects.filter(action="create").exists()


def test_an_archivist_searches_but_does_not_register(login, archivist):
    client = login(archivist)
    assert client.get("/patients/").status_code == 200
    assert "/patients/new/" not in client.get("/patients/").content.decode()
    assert client.get("/patients/new/").status_code == 403
