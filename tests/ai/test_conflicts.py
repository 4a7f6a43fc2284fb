"""Conflicting data: the same measurement by two sources beyond its tolerance, detected both ways, shown side by
side and resolved by a clinician choosing the right reading (observations are never changed)."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ai.conflicts import Reading, disagree, find_conflict
from ai.models import Alert
from ai.services import alert_resolve, conflict_check_lab, conflict_check_set
from emr.models import Observation
from emr.services.observations import lab_result_record, vital_signs_record
from hospital.core.models import AccessLog
from tests.ai.support import ward_with_inpatient
from tests.emr.test_access_support import assign, make_user

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
TOLERANCES = {"heart_rate": {"absolute": Decimal("10")}, "*": {"relative": Decimal("0.10")}}


def _reading(value, *, minutes=0, source="manual", by=1, code="heart_rate", unit="/min", set_id=None):
    return Reading(
        observation=str(uuid.uuid4()),
        code=code,
        value=Decimal(str(value)),
        unit=unit,
        taken_at=T0 + timedelta(minutes=minutes),
        source=source,
        recorded_by_id=by,
        set_id=set_id,
    )


# --- the rules ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("device", "manual", "conflict"),
    [
        (90, 100, False),  # exactly the tolerance: not beyond it
        (90, Decimal("100.1"), True),
        (110, 99, True),  # the other way round
        (110, 100, False),
        (95, 95, False),
    ],
)
def test_the_absolute_tolerance_both_ways(device, manual, conflict):
    new = _reading(manual, minutes=2)
    other = _reading(device, source="device", by=2)

    assert (find_conflict(new, [other], window=WINDOW, tolerances=TOLERANCES) is other) is conflict


def test_the_relative_tolerance_for_a_laboratory_test():
    tolerance = TOLERANCES["*"]

    assert not disagree(Decimal("5.0"), Decimal("5.5"), tolerance)  # 10 % of 5.5 is 0.55
    assert disagree(Decimal("5.0"), Decimal("5.6"), tolerance)
    assert disagree(Decimal("5.6"), Decimal("5.0"), tolerance)


@pytest.mark.parametrize(
    ("changes", "conflict"),
    [
        ({"source": "device", "by": 1}, True),  # device vs the nurse's hand entry
        ({"source": "manual", "by": 2}, True),  # two different recorders
        ({"source": "manual", "by": 1}, False),  # the same nurse measuring again
        ({"source": "device", "by": 2, "minutes": 16}, False),  # outside the window
        ({"source": "device", "by": 2, "minutes": -15}, True),  # the window's edge, earlier side
        ({"source": "device", "by": 2, "code": "respiratory_rate"}, False),  # another measurement
        ({"source": "device", "by": 2, "unit": "bpm"}, False),  # another unit
        ({"source": "device", "by": 2, "set_id": "set-1"}, False),  # the same set
    ],
)
def test_what_counts_as_two_sources_of_the_same_measurement(changes, conflict):
    new = _reading(80, source="manual", by=1, set_id="set-1")
    other = _reading(120, **changes)

    assert (find_conflict(new, [other], window=WINDOW, tolerances=TOLERANCES) is not None) is conflict


def test_the_closest_reading_in_time_is_the_one_compared():
    new = _reading(80, minutes=10)
    far = _reading(130, minutes=0, source="device", by=2)
    near = _reading(100, minutes=8, source="device", by=2)

    assert find_conflict(new, [far, near], window=WINDOW, tolerances=TOLERANCES) is near


# --- the service -------------------------------------------------------------------------------------------


@pytest.fixture
def inpatient(db):
    ward, doctor, nurse, patient, encounter = ward_with_inpatient()
    monitor = make_user("monitor.w1", "nurse")
    assign(monitor, ward)
    return SimpleNamespace(ward=ward, doctor=doctor, nurse=nurse, monitor=monitor, patient=patient, encounter=encounter)


def _vitals(inpatient, by, *, minutes_ago, source="manual", **values):
    rows = vital_signs_record(
        patient=inpatient.patient,
        recorded_by=by,
        encounter=inpatient.encounter,
        taken_at=timezone.now() - timedelta(minutes=minutes_ago),
        source=source,
        **values,
    )
    return rows[0].set_id, {row.code: row for row in rows}


def test_a_device_reading_and_a_hand_entry_that_disagree_raise_one_alert_with_both(inpatient):
    _set, device = _vitals(inpatient, inpatient.monitor, minutes_ago=10, source="device", heart_rate=128, spo2=95)
    set_id, manual = _vitals(inpatient, inpatient.nurse, minutes_ago=5, heart_rate=84, spo2=96)

    alerts = conflict_check_set(set_id=set_id)

    assert len(alerts) == 1  # the SpO2 readings agree within 3 %
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.ward, alert.patient) == (
        "conflicting_data",
        "medium",
        inpatient.ward,
        inpatient.patient,
    )
    readings = alert.detail["readings"]
    assert [(r["value"], r["source"], r["recorded_by"]) for r in readings] == [
        ("128", "device", "monitor.w1"),
        ("84", "manual", inpatient.nurse.username),
    ]
    assert [r["observation"] for r in readings] == [
        str(device["heart_rate"].external_id),
        str(manual["heart_rate"].external_id),
    ]
    assert alert.title == "Conflicting Heart rate: 128 and 84 /min"
    assert alert.detail["difference"] == "44" and alert.detail["tolerance_label"] == "10 /min"
    entry = AccessLog.objects.get(object_type="ai.alert", action="create")
    assert entry.patient_external_id == inpatient.patient.external_id


def test_readings_within_tolerance_raise_nothing(inpatient):
    _vitals(inpatient, inpatient.monitor, minutes_ago=10, source="device", heart_rate=90, temperature=Decimal("37.2"))
    set_id, _rows = _vitals(inpatient, inpatient.nurse, minutes_ago=5, heart_rate=100, temperature=Decimal("37.7"))

    assert conflict_check_set(set_id=set_id) == []
    assert not Alert.objects.exists()


def test_checking_again_changes_nothing_and_a_further_disagreement_is_merged(inpatient):
    _vitals(inpatient, inpatient.monitor, minutes_ago=12, source="device", heart_rate=128)
    set_id, _rows = _vitals(inpatient, inpatient.nurse, minutes_ago=8, heart_rate=84)
    conflict_check_set(set_id=set_id)
    conflict_check_set(set_id=set_id)
    later, _rows = _vitals(inpatient, inpatient.nurse, minutes_ago=2, heart_rate=80)

    conflict_check_set(set_id=later)

    alert = Alert.objects.get()
    assert alert.occurrences == 2
    assert alert.detail["latest"]["readings"][1]["value"] == "80"


def test_the_clinician_chooses_the_right_reading_and_nothing_is_deleted(inpatient):
    _set, device = _vitals(inpatient, inpatient.monitor, minutes_ago=10, source="device", heart_rate=128)
    set_id, manual = _vitals(inpatient, inpatient.nurse, minutes_ago=5, heart_rate=84)
    conflict_check_set(set_id=set_id)
    alert = Alert.objects.get()

    with pytest.raises(ValidationError) as missing:
        alert_resolve(alert=alert, user=inpatient.doctor, note="Probe off")
    with pytest.raises(ValidationError) as foreign:
        alert_resolve(alert=alert, user=inpatient.doctor, note="Probe off", accepted=str(uuid.uuid4()))
    resolved = alert_resolve(
        alert=alert,
        user=inpatient.doctor,
        note="Oximeter probe was loose; manual pulse counted over a minute.",
        accepted=str(manual["heart_rate"].external_id),
    )

    assert "accepted" in missing.value.message_dict and "accepted" in foreign.value.message_dict
    assert resolved.resolution["accepted"]["value"] == "84"
    assert resolved.resolution["rejected"]["observation"] == str(device["heart_rate"].external_id)
    event = resolved.events.get(action="resolved")
    assert (event.actor, event.detail["accepted"]) == (inpatient.doctor, str(manual["heart_rate"].external_id))
    # Both readings stay in the record: the EMR has no entered-in-error status for observations.
    assert Observation.objects.filter(pk__in=[device["heart_rate"].pk, manual["heart_rate"].pk]).count() == 2


def test_two_laboratory_results_of_the_same_test_from_two_systems(inpatient):
    def potassium(value, *, minutes_ago, source):
        return lab_result_record(
            patient=inpatient.patient,
            encounter=inpatient.encounter,
            code="2823-3",
            display="Potassium",
            unit="mmol/L",
            value_numeric=value,
            effective_at=timezone.now() - timedelta(minutes=minutes_ago),
            recorded_by=inpatient.doctor,
            source=source,
        )

    potassium("4.1", minutes_ago=10, source="interface")
    close = potassium("4.4", minutes_ago=6, source="manual")  # within 10 %
    far = potassium("5.2", minutes_ago=4, source="manual")

    assert conflict_check_lab(observation_id=close.pk) == []
    alert = conflict_check_lab(observation_id=far.pk)[0]
    assert [r["value"] for r in alert.detail["readings"]] == ["4.1", "5.2"]
    assert alert.title == "Conflicting Potassium: 4.1 and 5.2 mmol/L"


def test_the_tolerance_table_is_a_setting(inpatient, settings):
    settings.ALERT_CONFLICT_TOLERANCES = {"heart_rate": {"absolute": 50}}
    _vitals(inpatient, inpatient.monitor, minutes_ago=10, source="device", heart_rate=128)
    set_id, _rows = _vitals(inpatient, inpatient.nurse, minutes_ago=5, heart_rate=84)

    assert conflict_check_set(set_id=set_id) == []
