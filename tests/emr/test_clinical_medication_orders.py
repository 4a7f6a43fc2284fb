"""Medication orders and the allergy check: medication_order_create / _stop and their API."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from emr.models import MedicationOrder, Patient
from emr.selectors.clinical import current_medications, medication_allergy_conflicts
from emr.services.clinical import (
    AllergyConflictError,
    allergy_record,
    allergy_update_status,
    medication_order_create,
    medication_order_stop,
)
from hospital.core.models import AccessLog, User
from tests.emr.test_clinical_support import make_formulary, make_patient, make_user, treat

pytestmark = pytest.mark.django_db

ORDER = {"dose": "500", "dose_unit": "mg", "route": "oral", "frequency": "tid", "duration_days": 7}
REASON = "Skin test negative, benefit outweighs risk"


@pytest.fixture
def doctor():
    return make_user("order_doctor", "doctor")


@pytest.fixture
def patient(doctor):
    patient = make_patient()
    treat(patient, doctor)
    return patient


@pytest.fixture
def drugs():
    return make_formulary()


@pytest.fixture
def api(api_client, doctor):
    api_client.force_authenticate(doctor)
    return api_client


def url(patient, suffix=""):
    return f"/api/v1/emr/patients/{patient.external_id}/medication-orders/{suffix}"


def order(patient, drug, doctor, **kwargs):
    return medication_order_create(patient=patient, drug=drug, ordered_by=doctor, **{**ORDER, **kwargs})


def conflicts(patient, drug):
    return [(c.substance, c.reason) for c in medication_allergy_conflicts(patient=patient, drug=drug)]


# --- The allergy check ---------------------------------------------------------------------------------------


def test_penicillin_allergy_conflicts_with_amoxicillin_by_class(doctor, patient, drugs):
    allergy_record(patient=patient, substance="", drug=drugs["benzylpenicillin"], recorded_by=doctor)

    # J01CE01 and J01CA04 differ at ATC level 4, but every penicillin (J01C) cross-reacts.
    assert conflicts(patient, drugs["amoxicillin"]) == [("benzylpenicillin", "same_class")]
    assert conflicts(patient, drugs["benzylpenicillin"]) == [("benzylpenicillin", "same_drug")]
    assert conflicts(patient, drugs["metformin"]) == []
    assert conflicts(patient, drugs["cefuroxime"]) == []


@pytest.mark.parametrize(
    ("substance", "reason"),
    [
        ("Amoxicillin", "same_substance"),
        ("AMOXIL", "same_substance"),
        ("阿莫西林", "same_substance"),
        ("Penicillin", "same_class"),
        ("青霉素", "same_class"),  # also the Chinese name of benzylpenicillin in the formulary
        ("penicillin G", "same_class"),  # a synonym of a formulary penicillin
    ],
)
def test_free_text_allergies_match_names_synonyms_and_classes(doctor, patient, drugs, substance, reason):
    allergy_record(patient=patient, substance=substance, recorded_by=doctor)

    assert conflicts(patient, drugs["amoxicillin"]) == [(substance, reason)]


def test_same_atc_level_four_is_a_conflict_and_other_classes_are_not(doctor, patient, drugs):
    from tests.emr.test_clinical_support import make_drug

    naproxen = make_drug("naproxen", "萘普生", "M01AE02", strength="250 mg")
    allergy_record(patient=patient, substance="", drug=drugs["ibuprofen"], recorded_by=doctor)

    assert conflicts(patient, naproxen) == [("ibuprofen", "same_class")]
    assert conflicts(patient, drugs["amoxicillin"]) == []


def test_inactive_and_food_allergies_do_not_conflict(doctor, patient, drugs):
    allergy = allergy_record(patient=patient, substance="Amoxicillin", recorded_by=doctor)
    allergy_record(patient=patient, substance="Shellfish", category="food", recorded_by=doctor)
    allergy_update_status(allergy=allergy, status="refuted", updated_by=doctor)

    assert conflicts(patient, drugs["amoxicillin"]) == []


def test_a_conflict_blocks_the_order_and_writes_nothing(doctor, patient, drugs):
    allergy_record(patient=patient, substance="Penicillin", recorded_by=doctor, severity="life_threatening")
    logged = AccessLog.objects.count()

    with pytest.raises(AllergyConflictError) as caught:
        order(patient, drugs["amoxicillin"], doctor)

    assert "Penicillin" in caught.value.message_dict["allergy"][0]
    assert caught.value.conflicts[0]["severity"] == "life_threatening"
    assert MedicationOrder.objects.count() == 0
    assert AccessLog.objects.count() == logged


def test_an_override_with_a_reason_saves_the_conflicts_and_logs_it(doctor, patient, drugs):
    allergy_record(patient=patient, substance="Penicillin", recorded_by=doctor)

    placed = order(patient, drugs["amoxicillin"], doctor, allergy_override_reason=f"  {REASON} ")

    placed.refresh_from_db()
    assert placed.allergy_override_reason == REASON
    assert [(c["substance"], c["reason"]) for c in placed.allergy_conflicts] == [("Penicillin", "same_class")]
    entry = AccessLog.objects.latest("id")
    assert (entry.action, entry.object_type, entry.object_id) == (
        "create",
        "emr.medicationorder",
        str(placed.external_id),
    )
    assert entry.detail["allergy_override"] == {"reason": REASON, "substances": ["Penicillin"]}


def test_a_short_override_reason_is_refused(doctor, patient, drugs):
    allergy_record(patient=patient, substance="Penicillin", recorded_by=doctor)

    with pytest.raises(AllergyConflictError) as caught:
        order(patient, drugs["amoxicillin"], doctor, allergy_override_reason="ok")

    assert set(caught.value.message_dict) == {"allergy", "allergy_override_reason"}
    assert MedicationOrder.objects.count() == 0


def test_a_reason_without_a_conflict_is_not_kept(doctor, patient, drugs):
    placed = order(patient, drugs["metformin"], doctor, allergy_override_reason=REASON)

    assert (placed.allergy_override_reason, placed.allergy_conflicts) == ("", [])


# --- Validation and warnings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("dose", "field"), [("-5", "dose"), ("0", "dose"), ("abc", "dose")])
def test_a_dose_not_above_zero_is_refused(doctor, patient, drugs, dose, field):
    with pytest.raises(ValidationError) as caught:
        order(patient, drugs["metformin"], doctor, dose=dose)

    assert field in caught.value.message_dict
    assert MedicationOrder.objects.count() == 0


def test_unknown_allergy_status_warns_but_does_not_block(doctor, patient, drugs):
    assert patient.allergy_status == Patient.AllergyStatus.UNKNOWN

    placed = order(patient, drugs["metformin"], doctor)

    assert [warning["code"] for warning in placed.warnings] == ["allergy_status_unknown"]
    assert AccessLog.objects.latest("id").detail["warnings"] == ["allergy_status_unknown"]
    Patient.objects.filter(pk=patient.pk).update(allergy_status=Patient.AllergyStatus.NO_KNOWN_ALLERGIES)
    assert order(patient, drugs["metformin"], doctor).warnings == []


def test_stop_an_order_once(doctor, patient, drugs):
    placed = order(patient, drugs["metformin"], doctor)

    medication_order_stop(order=placed, stopped_by=doctor, reason="HbA1c at target")

    assert list(current_medications(patient=patient)) == []
    assert AccessLog.objects.latest("id").detail == {"status": "stopped", "reason": "HbA1c at target"}
    with pytest.raises(ValidationError) as caught:
        medication_order_stop(order=placed, stopped_by=doctor)
    assert "status" in caught.value.message_dict


# --- API ----------------------------------------------------------------------------------------------------


def test_api_allergy_conflict_is_400_with_code_allergy_conflict(api, doctor, patient, drugs):
    allergy_record(patient=patient, substance="", drug=drugs["benzylpenicillin"], recorded_by=doctor)
    payload = {**ORDER, "drug": str(drugs["amoxicillin"].external_id)}

    response = api.post(url(patient), payload, format="json")

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "allergy_conflict"
    assert "benzylpenicillin" in error["fields"]["allergy"][0]
    assert error["conflicts"][0]["reason"] == "same_class"
    assert MedicationOrder.objects.count() == 0

    overridden = api.post(url(patient), {**payload, "allergy_override_reason": REASON}, format="json")
    assert overridden.status_code == 201, overridden.content
    assert overridden.json()["allergy_conflicts"][0]["substance"] == "benzylpenicillin"
    assert overridden.json()["warnings"] == []  # recording the allergy made the status known


def test_api_creates_an_order_with_the_unknown_allergies_warning(api, patient, drugs):
    response = api.post(url(patient), {**ORDER, "drug": str(drugs["metformin"].external_id)}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (Decimal(body["dose"]), body["drug"]["generic_name_zh"], body["status"]) == (
        Decimal(500),
        "二甲双胍",
        "active",
    )
    assert body["warnings"][0]["code"] == "allergy_status_unknown"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dose": "-1"}, "dose"),
        ({"dose": "0"}, "dose"),
        ({"route": "nasal"}, "route"),
        ({"frequency": "sometimes"}, "frequency"),
        ({"duration_days": 0}, "duration_days"),
        ({"drug": "00000000-0000-0000-0000-000000000000"}, "drug"),
    ],
)
def test_api_bad_input_is_400_with_field_errors_and_writes_nothing(api, patient, drugs, change, field):
    logged = AccessLog.objects.count()
    payload = {**ORDER, "drug": str(drugs["metformin"].external_id), **change}

    response = api.post(url(patient), payload, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert MedicationOrder.objects.count() == 0
    assert AccessLog.objects.count() == logged


def test_api_nurse_cannot_order_and_strangers_cannot_read(api_client, patient, drugs):
    nurse = make_user("order_nurse", "nurse")
    treat(patient, nurse)
    api_client.force_authenticate(nurse)
    payload = {**ORDER, "drug": str(drugs["metformin"].external_id)}
    assert api_client.post(url(patient), payload, format="json").status_code == 403
    assert api_client.get(url(patient)).status_code == 200

    api_client.force_authenticate(make_user("order_stranger", "doctor"))
    assert api_client.get(url(patient)).status_code == 403
    assert MedicationOrder.objects.count() == 0


def test_api_stop(api, doctor, patient, drugs):
    placed = order(patient, drugs["metformin"], doctor)

    response = api.post(url(patient, f"{placed.external_id}/stop/"), {"reason": "no longer needed"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "stopped"
    assert api.post(url(patient, f"{placed.external_id}/stop/"), {}, format="json").status_code == 400
    other = make_patient("陈", "静")
    assert api.post(url(other, f"{placed.external_id}/stop/"), {}).status_code in (403, 404)


def test_api_list_query_count_does_not_grow(api, doctor, patient, drugs, django_assert_num_queries):
    def listed():
        api.force_authenticate(User.objects.get(pk=doctor.pk))
        # permissions and roles (3), the patient with the access check, the orders, the access-log entry (6)
        with django_assert_num_queries(11):
            response = api.get(url(patient))
        assert response.status_code == 200
        return response.json()

    order(patient, drugs["metformin"], doctor)
    assert len(listed()) == 1
    for name in ("ibuprofen", "cefuroxime", "amoxicillin"):
        order(patient, drugs[name], doctor)
    assert [o["drug"]["generic_name_en"] for o in listed()] == ["amoxicillin", "cefuroxime", "ibuprofen", "metformin"]
    entry = AccessLog.objects.latest("id")
    assert (entry.action, entry.object_type, entry.detail["count"]) == ("read", "emr.medicationorder", 4)
