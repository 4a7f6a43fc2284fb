"""Registration with encrypted identifiers, Chinese resident ID checks, duplicate detection, demographic updates."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from emr.models import Encounter, Patient
from emr.selectors.patients import patient_duplicate_candidates
from emr.services.patients import cn_resident_id_check_character, patient_create, patient_update
from hospital.core.models import AccessLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/emr/patients/"
DUPLICATES_URL = "/api/v1/emr/patients/duplicates/"
BIRTH = date(1949, 12, 31)


def cn_id(birth: date, sequence: str = "001", region: str = "110105") -> str:
    body = f"{region}{birth:%Y%m%d}{sequence}"
    return body + cn_resident_id_check_character(body)


NATIONAL_ID = cn_id(BIRTH, "002")
VALID = {
    "family_name": "王",
    "given_name": "建国",
    "sex": "male",
    "birth_date": BIRTH.isoformat(),
    "national_id": NATIONAL_ID,
    "phone": "+86 138-0013-8000",
    "insurance_number": "bj-2024/00017",
    "address": "北京市朝阳区  建国路 88 号",
    "email": "Wang.JG@Example.COM",
    "allergy_status": "no_known_allergies",
}


def _encounter(patient, doctor):
    return Encounter.objects.create(
        patient=patient, encounter_class="outpatient", started_at=timezone.now(), attending=doctor
    )


def test_the_check_character_matches_a_published_example():
    # GB 11643's worked example: 11010519491231002X.
    assert cn_resident_id_check_character("11010519491231002") == "X"


def test_identifiers_are_normalised_stored_encrypted_and_blind_indexed(doctor):
    patient = patient_create(
        created_by=doctor,
        **{**VALID, "birth_date": BIRTH, "national_id": "110105 19491231 002x"},
    )

    patient = Patient.objects.get(pk=patient.pk)
    assert patient.national_id == NATIONAL_ID
    assert patient.phone == "+8613800138000"
    assert patient.insurance_number == "BJ-2024/00017"
    assert patient.address == "北京市朝阳区 建国路 88 号"
    assert patient.email == "Wang.JG@example.com"
    assert patient.allergy_status == Patient.AllergyStatus.NO_KNOWN_ALLERGIES
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT national_id, phone, insurance_number, address, email, national_id_index, phone_index "
            "FROM emr_patient WHERE id = %s",
            [patient.pk],
        )
        *stored, national_id_index, phone_index = cursor.fetchone()
    for column, plaintext in zip(stored, [NATIONAL_ID, "13800138000", "00017", "建国路", "example.com"], strict=True):
        assert column.startswith("enc1") and plaintext not in column
    assert len(national_id_index) == 64 and len(phone_index) == 64


def test_registration_over_the_api_returns_the_identifiers_to_the_registering_user(doctor_api):
    response = doctor_api.post(URL, VALID, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["national_id"] == NATIONAL_ID
    assert body["phone"] == "+8613800138000"
    assert body["allergy_status"] == "no_known_allergies"
    assert body["is_active"] is True and body["merged_into"] is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"national_id": NATIONAL_ID[:17] + ("1" if NATIONAL_ID[17] != "1" else "2")}, "national_id"),
        ({"national_id": cn_id(date(1950, 1, 1))}, "national_id"),  # valid, but another birth date
        ({"national_id": "110105194913310021"}, "national_id"),  # month 13
        ({"national_id": "A" * 41}, "national_id"),
        ({"national_id": "E1234#567"}, "national_id"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "138 0013 800a"}, "phone"),
        ({"email": "not-an-address"}, "email"),
        ({"insurance_number": "保险 123"}, "insurance_number"),
        ({"allergy_status": "maybe"}, "allergy_status"),
    ],
)
def test_an_invalid_identifier_is_a_400_field_error_and_nothing_is_written(doctor_api, overrides, field):
    response = doctor_api.post(URL, {**VALID, **overrides}, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not Patient.objects.exists()
    assert not AccessLog.objects.exists()


def test_the_service_refuses_a_wrong_check_character_too(doctor):
    with pytest.raises(ValidationError) as excinfo:
        patient_create(
            created_by=doctor, family_name="王", given_name="建国", sex="male", birth_date=BIRTH,
            national_id=NATIONAL_ID[:17] + "0" if NATIONAL_ID[17] != "0" else NATIONAL_ID[:17] + "1",
        )  # fmt: skip
    assert "national_id" in excinfo.value.message_dict
    assert not Patient.objects.exists()


def test_other_id_formats_are_accepted(doctor):
    patient = patient_create(
        created_by=doctor, family_name="Smith", given_name="Anna", sex="female", birth_date=date(1980, 1, 2),
        national_id="e 1234-5678",
    )  # fmt: skip
    assert Patient.objects.get(pk=patient.pk).national_id == "E12345678"


def test_a_likely_duplicate_answers_409_with_minimal_candidates_then_confirm_registers(doctor_api, doctor):
    existing = patient_create(created_by=doctor, family_name="王", given_name="建国", sex="male", birth_date=BIRTH)

    first = doctor_api.post(URL, {**VALID, "given_name": "建囯", "national_id": "", "phone": ""}, format="json")

    assert first.status_code == 409, first.content
    body = first.json()
    assert body["error"]["code"] == "possible_duplicates"
    [candidate] = body["candidates"]
    assert set(candidate) == {"external_id", "mrn", "full_name", "birth_year", "score", "reasons", "codes"}
    assert (candidate["mrn"], candidate["birth_year"]) == (existing.mrn, 1949)
    assert candidate["reasons"] == ["similar name and same birth date"]
    assert Patient.objects.count() == 1
    search = AccessLog.objects.get(action="search")
    assert search.detail == {"kind": "duplicate_check", "results": 1}

    confirmed = doctor_api.post(
        URL,
        {**VALID, "given_name": "建囯", "national_id": "", "phone": "", "confirm_not_duplicate": True},
        format="json",
    )

    assert confirmed.status_code == 201, confirmed.content
    assert Patient.objects.count() == 2


def test_same_national_id_or_phone_is_a_candidate_whatever_the_name(doctor):
    other = UserFactory(username="clerk2", roles=["doctor"])
    existing = patient_create(
        created_by=other, family_name="Zhang", given_name="Wei", sex="male", birth_date=BIRTH,
        national_id=NATIONAL_ID, phone="13800138000",
    )  # fmt: skip

    candidates = patient_duplicate_candidates(
        family_name="李", given_name="四", birth_date=date(1990, 1, 1),
        national_id=NATIONAL_ID.lower(), phone="138 0013 8000", fetched_by=doctor,
    )  # fmt: skip

    [candidate] = candidates
    assert candidate.patient == existing
    assert candidate.codes == ["same_national_id", "same_phone"]
    assert candidate.reasons == ["same national ID", "same phone"]
    assert candidate.score == 1.0


def test_a_different_person_with_a_similar_name_but_another_birthday_is_no_candidate(doctor):
    patient_create(created_by=doctor, family_name="王", given_name="建国", sex="male", birth_date=BIRTH)

    assert (
        patient_duplicate_candidates(
            family_name="王", given_name="建国", birth_date=date(1950, 1, 1), fetched_by=doctor
        )
        == []
    )
    assert not AccessLog.objects.filter(action="search").exists()


def test_the_duplicate_check_endpoint_finds_a_phone_typed_differently_and_writes_nothing(doctor_api, doctor):
    patient_create(
        created_by=doctor, family_name="王", given_name="建国", sex="male", birth_date=BIRTH, phone="13800138000"
    )
    before = Patient.objects.count()

    response = doctor_api.post(
        DUPLICATES_URL,
        {"family_name": "赵", "given_name": "六", "birth_date": "2001-01-01", "phone": "+86 138 0013 8000"},
        format="json",
    )

    assert response.status_code == 200, response.content
    [candidate] = response.json()["candidates"]
    assert candidate["codes"] == ["same_phone"]
    assert Patient.objects.count() == before


def test_patient_update_changes_demographics_and_logs_only_field_names(doctor_api, doctor):
    patient = patient_create(created_by=doctor, family_name="王", given_name="建国", sex="male", birth_date=BIRTH)
    _encounter(patient, doctor)

    response = doctor_api.patch(f"{URL}{patient.external_id}/", {"phone": "139 0000 1111"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "13900001111"
    entry = AccessLog.objects.get(action="write")
    assert entry.detail == {"fields": ["phone"]}
    assert entry.patient_external_id == patient.external_id


def test_patient_update_rechecks_the_stored_national_id_against_a_new_birth_date(doctor_api, doctor):
    patient = patient_create(
        created_by=doctor, family_name="王", given_name="建国", sex="male", birth_date=BIRTH, national_id=NATIONAL_ID
    )
    _encounter(patient, doctor)

    response = doctor_api.patch(f"{URL}{patient.external_id}/", {"birth_date": "1950-01-01"}, format="json")

    assert response.status_code == 400
    assert "national_id" in response.json()["error"]["fields"]
    assert Patient.objects.get(pk=patient.pk).birth_date == BIRTH
    assert not AccessLog.objects.filter(action="write").exists()


def test_patch_by_a_doctor_who_does_not_treat_the_patient_is_refused(api_client, doctor):
    patient = patient_create(created_by=doctor, family_name="王", given_name="建国", sex="male", birth_date=BIRTH)
    api_client.force_authenticate(UserFactory(username="stranger", roles=["doctor"]))

    response = api_client.patch(f"{URL}{patient.external_id}/", {"given_name": "X"}, format="json")

    assert response.status_code == 403
    assert Patient.objects.get(pk=patient.pk).given_name == "建国"


def test_an_update_that_changes_nothing_logs_nothing(doctor):
    patient = patient_create(created_by=doctor, family_name="王", given_name="建国", sex="male", birth_date=BIRTH)

    patient_update(patient=patient, updated_by=doctor, given_name=" 建国 ", phone=None)

    assert not AccessLog.objects.filter(action="write").exists()
