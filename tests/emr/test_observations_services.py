"""Vital signs and laboratory results: physiological validation, abnormal and critical flags, selectors."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from emr.lab_limits import critical_limit, normalize_unit
from emr.models import Observation
from emr.selectors.observations import lab_results, latest_vitals, vital_series
from emr.services.notes import note_create_draft
from emr.services.observations import lab_flag, lab_result_record, vital_signs_record
from hospital.core.models import AccessLog
from tests.emr.test_notes_support import make_encounter, make_patient, make_signed_note

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(db):
    return make_patient()


def test_a_full_set_is_one_observation_per_value_sharing_a_set(patient, doctor):
    rows = vital_signs_record(
        patient=patient,
        recorded_by=doctor,
        heart_rate=88,
        respiratory_rate="18",
        spo2=Decimal("97"),
        temperature=37.8,
        systolic_bp=135,
        diastolic_bp=85,
        consciousness="a",
        supplemental_oxygen=False,
    )

    stored = {row.code: row for row in Observation.objects.all()}
    assert len(rows) == len(stored) == 8
    assert len({row.set_id for row in stored.values()}) == 1
    assert stored["temperature"].value_numeric == Decimal("37.8") and stored["temperature"].unit == "Cel"
    assert stored["spo2"].unit == "%"
    assert stored["consciousness"].value_text == "A"
    assert (stored["supplemental_oxygen"].value_numeric, stored["supplemental_oxygen"].value_text) == (0, "no")
    entry = AccessLog.objects.get()
    assert (entry.action, entry.patient_external_id, entry.object_id) == (
        "create",
        patient.external_id,
        str(rows[0].set_id),
    )


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"spo2": 150}, "spo2", "SpO2 must be between 40 and 100 %."),
        ({"heart_rate": 0}, "heart_rate", "Heart rate must be between 20 and 300 /min."),
        ({"temperature": 98.6}, "temperature", "Temperature must be between 25 and 45 °C."),
        ({"systolic_bp": 80, "diastolic_bp": 120}, "systolic_bp", "must be higher than the diastolic"),
        ({"systolic_bp": 90, "diastolic_bp": 90}, "systolic_bp", "must be higher than the diastolic"),
        ({"heart_rate": "fast"}, "heart_rate", "Enter a number."),
        ({"heart_rate": "NaN"}, "heart_rate", "Enter a number."),
        ({"consciousness": "X"}, "consciousness", "Consciousness must be one of A (alert)"),
        ({"supplemental_oxygen": "yes"}, "supplemental_oxygen", "yes or no"),
        ({}, "non_field_errors", "at least one vital sign"),
        ({"heart_rate": 80, "taken_at": timezone.now() + timedelta(hours=1)}, "taken_at", "future"),
    ],
)
def test_impossible_or_incomplete_vitals_are_refused_and_nothing_is_written(patient, doctor, values, field, message):
    with pytest.raises(ValidationError) as error:
        vital_signs_record(patient=patient, recorded_by=doctor, **values)

    assert any(message in text for text in error.value.message_dict[field]), error.value.message_dict
    assert not Observation.objects.exists()
    assert not AccessLog.objects.exists()


def test_one_bad_value_refuses_the_whole_set(patient, doctor):
    with pytest.raises(ValidationError) as error:
        vital_signs_record(patient=patient, recorded_by=doctor, heart_rate=80, spo2=150, respiratory_rate=1)

    assert set(error.value.message_dict) == {"spo2", "respiratory_rate"}
    assert not Observation.objects.exists()


def test_vitals_taken_with_a_note_join_its_encounter_but_not_once_it_is_signed(patient, doctor):
    encounter = make_encounter(patient, doctor)
    draft = note_create_draft(encounter=encounter, author=doctor, note_type="progress", chief_complaint="x")

    rows = vital_signs_record(patient=patient, note=draft, recorded_by=doctor, heart_rate=70)
    assert (rows[0].note_id, rows[0].encounter_id) == (draft.pk, encounter.pk)

    signed = make_signed_note(encounter, doctor)
    with pytest.raises(ValidationError) as error:
        vital_signs_record(patient=patient, note=signed, recorded_by=doctor, heart_rate=70)
    assert "note" in error.value.message_dict
    other = make_patient("李", "娜")
    with pytest.raises(ValidationError) as error:
        vital_signs_record(patient=other, encounter=encounter, recorded_by=doctor, heart_rate=70)
    assert "encounter" in error.value.message_dict


@pytest.mark.parametrize(
    ("code", "unit", "value", "low", "high", "flag"),
    [
        ("2823-3", "mmol/L", "4.1", "3.5", "5.3", "N"),
        ("2823-3", "mmol/L", "3.1", "3.5", "5.3", "L"),
        ("2823-3", "mmol/L", "5.9", "3.5", "5.3", "H"),
        ("2823-3", "mmol/L", "2.5", "3.5", "5.3", "LL"),
        ("K", "mmol/l", "6.8", "3.5", "5.3", "HH"),
        ("2951-2", "mmol/L", "118", "135", "145", "LL"),
        ("GLU", "mmol/L", "1.9", "3.9", "6.1", "LL"),
        ("2345-7", "mg/dL", "500", "70", "110", "HH"),
        ("2345-7", "mg/dL", "30", "70", "110", "LL"),
        ("718-7", "g/L", "62", "130", "175", "LL"),
        ("718-7", "g/dL", "6.2", "13", "17.5", "LL"),
        ("777-3", "10*9/L", "12", "150", "400", "LL"),
        ("PLT", "x10^9/L", "160", "150", "400", "N"),
        ("2160-0", "µmol/L", "820", "59", "104", "HH"),
        ("67151-1", "ng/L", "48", None, "14", "H"),
        ("67151-1", "ng/L", "95", None, "14", "HH"),
        ("89579-7", "ng/L", "70", None, "34", "HH"),
        # a unit the critical table does not know: only the reference range speaks
        ("2345-7", "g/L", "0.2", "0.7", "1.1", "L"),
        # a test without critical limits and without a range: no flag
        ("1751-7", "g/L", "38", None, None, ""),
    ],
)
def test_lab_flags(code, unit, value, low, high, flag):
    as_decimal = lambda text: None if text is None else Decimal(text)  # noqa: E731
    assert (
        lab_flag(
            code=code, unit=unit, value=Decimal(value), reference_low=as_decimal(low), reference_high=as_decimal(high)
        )
        == flag
    )


def test_units_are_compared_in_one_spelling():
    assert normalize_unit("10*9/L") == normalize_unit("x10^9/l") == normalize_unit("10^9/L")
    assert normalize_unit("µmol/L") == normalize_unit("μmol/L") == "umol/l"
    assert critical_limit("k", "MMOL/L").test == "potassium"
    assert critical_limit("2823-3", "mg/dL") is None


def test_a_lab_result_is_stored_with_its_flag_and_logged(patient, doctor):
    taken = timezone.now() - timedelta(hours=2)

    row = lab_result_record(
        patient=patient,
        code="2823-3",
        display="Potassium",
        value_numeric="6.9",
        unit="mmol/L",
        reference_low="3.5",
        reference_high="5.3",
        effective_at=taken,
        recorded_by=doctor,
    )

    stored = Observation.objects.get()
    assert (stored.pk, stored.category, stored.flag, stored.value_numeric) == (
        row.pk,
        "laboratory",
        "HH",
        Decimal("6.9000"),
    )
    assert AccessLog.objects.get().detail == {"category": "laboratory", "code": "2823-3", "flag": "HH"}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"value_numeric": None, "value_text": ""}, "value_numeric"),
        ({"reference_low": "6", "reference_high": "3"}, "reference_low"),
        ({"code": "  "}, "code"),
        ({"effective_at": timezone.now() + timedelta(days=1)}, "effective_at"),
        ({"value_numeric": "lots"}, "value_numeric"),
    ],
)
def test_bad_lab_results_are_refused(patient, doctor, values, field):
    payload = {
        "code": "2951-2",
        "display": "Sodium",
        "value_numeric": "140",
        "unit": "mmol/L",
        "effective_at": timezone.now(),
        **values,
    }
    with pytest.raises(ValidationError) as error:
        lab_result_record(patient=patient, recorded_by=doctor, **payload)

    assert field in error.value.message_dict
    assert not Observation.objects.exists()


def test_text_results_have_no_flag(patient, doctor):
    row = lab_result_record(
        patient=patient,
        code="5778-6",
        display="Urine colour",
        value_text="Yellow",
        unit="",
        effective_at=timezone.now(),
        recorded_by=doctor,
    )
    assert (row.value_numeric, row.value_text, row.flag) == (None, "Yellow", "")


def test_selectors_give_series_latest_values_and_labs_in_one_query_each(patient, doctor, django_assert_num_queries):
    other = make_patient("李", "娜")
    start = timezone.now() - timedelta(hours=10)
    for hour in range(10):
        vital_signs_record(
            patient=patient, recorded_by=doctor, taken_at=start + timedelta(hours=hour), heart_rate=60 + hour, spo2=95
        )
    vital_signs_record(patient=other, recorded_by=doctor, heart_rate=120, consciousness="V")
    for hour in range(3):
        lab_result_record(
            patient=patient,
            code="718-7",
            display="Haemoglobin",
            value_numeric=120 + hour,
            unit="g/L",
            reference_low=130,
            reference_high=175,
            effective_at=start + timedelta(hours=hour),
            recorded_by=doctor,
        )

    with django_assert_num_queries(1):
        series = vital_series(patient_ids=[patient.pk, other.pk], since=start + timedelta(hours=5))
    with django_assert_num_queries(1):
        latest = latest_vitals(patient_ids=[patient.pk, other.pk])
    with django_assert_num_queries(1):
        labs = lab_results(patient_ids=[patient.pk], limit=2)

    assert [value for _taken, value in series[patient.pk]["heart_rate"]] == [65, 66, 67, 68, 69]
    assert series[other.pk]["consciousness"][0][1] == "V"
    assert latest[patient.pk]["heart_rate"].value_numeric == 69
    assert set(latest[other.pk]) == {"heart_rate", "consciousness"}
    assert [(row.value_numeric, row.flag) for row in labs] == [(122, "L"), (121, "L")]
