"""Allergies and the explicit allergy status: allergy_record / allergy_none_known and their API."""

import pytest
from django.core.exceptions import ValidationError

from emr.models import Allergy, Patient
from emr.services.clinical import allergy_none_known, allergy_record, allergy_update_status
from hospital.core.models import AccessLog, User
from tests.emr.test_clinical_support import make_drug, make_patient, make_user, treat

pytestmark = pytest.mark.django_db


@pytest.fixture
def doctor():
    return make_user("allergy_doctor", "doctor")


@pytest.fixture
def patient(doctor):
    patient = make_patient()
    treat(patient, doctor)
    return patient


@pytest.fixture
def api(api_client, doctor):
    api_client.force_authenticate(doctor)
    return api_client


def url(patient, suffix=""):
    return f"/api/v1/emr/patients/{patient.external_id}/allergies/{suffix}"


def test_recording_an_allergy_sets_the_patient_status(doctor, patient):
    assert patient.allergy_status == Patient.AllergyStatus.UNKNOWN

    allergy = allergy_record(
        patient=patient, substance="  Penicillin ", recorded_by=doctor, reaction="皮疹", severity="severe"
    )

    patient.refresh_from_db()
    assert patient.allergy_status == Patient.AllergyStatus.HAS_ALLERGIES
    assert (allergy.substance, allergy.status, allergy.severity) == ("Penicillin", "active", "severe")
    entry = AccessLog.objects.latest("id")
    assert (entry.action, entry.object_type, entry.object_id) == ("create", "emr.allergy", str(allergy.external_id))


def test_a_formulary_drug_names_the_substance(doctor, patient):
    drug = make_drug("amoxicillin", "阿莫西林", "J01CA04", form="capsule")

    allergy = allergy_record(patient=patient, substance="", drug=drug, recorded_by=doctor)

    assert allergy.substance == "amoxicillin"
    with pytest.raises(ValidationError) as caught:
        allergy_record(patient=patient, substance="", drug=drug, category="food", recorded_by=doctor)
    assert "category" in caught.value.message_dict


def test_no_known_allergies_is_refused_while_an_allergy_is_active(doctor, patient):
    allergy = allergy_record(patient=patient, substance="Peanut", category="food", recorded_by=doctor)
    logged = AccessLog.objects.count()

    with pytest.raises(ValidationError) as caught:
        allergy_none_known(patient=patient, recorded_by=doctor)

    assert "Peanut" in caught.value.message_dict["allergy_status"][0]
    patient.refresh_from_db()
    assert patient.allergy_status == Patient.AllergyStatus.HAS_ALLERGIES
    assert AccessLog.objects.count() == logged

    # Once refuted, the clinician may state that there are none.
    allergy_update_status(allergy=allergy, status="refuted", updated_by=doctor)
    assert allergy_none_known(patient=patient, recorded_by=doctor).allergy_status == "no_known_allergies"
    entry = AccessLog.objects.latest("id")
    assert (entry.action, entry.object_type, entry.detail) == (
        "write",
        "emr.patient",
        {"allergy_status": "no_known_allergies"},
    )


def test_api_none_known(api, doctor, patient):
    response = api.post(url(patient, "none-known/"))

    assert response.status_code == 200, response.content
    assert response.json() == {"allergy_status": "no_known_allergies"}
    patient.refresh_from_db()
    assert patient.allergy_status == "no_known_allergies"


def test_api_none_known_with_an_active_allergy_is_400(api, doctor, patient):
    allergy_record(patient=patient, substance="Sulfonamides", recorded_by=doctor)

    response = api.post(url(patient, "none-known/"))

    assert response.status_code == 400
    assert "allergy_status" in response.json()["error"]["fields"]
    patient.refresh_from_db()
    assert patient.allergy_status == "has_allergies"


def test_api_record_and_bad_input(api, patient):
    response = api.post(url(patient), {"substance": "青霉素", "reaction": "过敏性休克", "severity": "life_threatening"})
    assert response.status_code == 201, response.content
    assert response.json()["substance"] == "青霉素"

    before = Allergy.objects.count()
    for payload in ({"substance": ""}, {"substance": "x", "severity": "deadly"}, {"drug": "not-a-uuid"}):
        bad = api.post(url(patient), payload, format="json")
        assert bad.status_code == 400, payload
    unknown_drug = api.post(url(patient), {"drug": "00000000-0000-0000-0000-000000000000"}, format="json")
    assert unknown_drug.status_code == 400 and "drug" in unknown_drug.json()["error"]["fields"]
    assert Allergy.objects.count() == before


def test_api_patch_status(api, doctor, patient):
    allergy = allergy_record(patient=patient, substance="Latex", category="environment", recorded_by=doctor)

    response = api.patch(url(patient, f"{allergy.external_id}/"), {"status": "inactive"}, format="json")

    assert response.status_code == 200, response.content
    assert api.get(url(patient)).json() == []
    assert len(api.get(url(patient), {"status": "all"}).json()) == 1


def test_api_list_query_count_does_not_grow(api, doctor, patient, django_assert_num_queries):
    drug = make_drug("ibuprofen", "布洛芬", "M01AE01")

    def listed():
        api.force_authenticate(User.objects.get(pk=doctor.pk))
        # permissions and roles (3), the patient with the access check, the allergies, the access-log entry (6)
        with django_assert_num_queries(11):
            response = api.get(url(patient))
        assert response.status_code == 200
        return response.json()

    allergy_record(patient=patient, substance="", drug=drug, recorded_by=doctor)
    assert [a["drug"]["generic_name_zh"] for a in listed()] == ["布洛芬"]
    for substance in ("Aspirin", "Egg", "Codeine"):
        allergy_record(patient=patient, substance=substance, recorded_by=doctor)
    assert [a["substance"] for a in listed()] == ["Aspirin", "Codeine", "Egg", "ibuprofen"]
