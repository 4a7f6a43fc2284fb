"""Vital-sign drift: sustained change against the patient's own baseline, not single readings.

The detector (ai.drift) on synthetic series (drift against noise, outliers) and on the real labelled series that
aeon ships (KDD-TSAD 135, internal bleeding); the service (ai.services.drift_evaluate) on charted vital signs.

KDD-TSAD 135 in figures (7,501 samples, labelled anomaly at samples 4187-4198, the first 1,200 samples the
dataset's normal training stretch): with the stream settings the detector alarms at samples 4190, 4194, 4197 and
4200, the first 3 samples into the labelled window; no alarm in the 4,187 samples before it, none from 4201 on.
"""

import random
import statistics
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from ai.drift import DOWN, STREAM_CUSUM, UP, Cusum, level_drift, prediction_errors, robust_baseline, stream_alarms
from ai.models import Alert
from ai.services import drift_evaluate
from emr.services.observations import vital_signs_record
from hospital.core.models import AccessLog
from tests.ai.support import ward_with_inpatient

FLOOR = 5.0  # the heart rate's scale floor


def _stay(seed, *, n=30, noise=FLOOR, kind=None, at=10, size=0.0):
    """n heart-rate readings around 80 with Gaussian noise; from reading `at` a slope or a step of `size`."""
    rng = random.Random(seed)
    values = []
    for i in range(n):
        value = 80 + rng.gauss(0, noise)
        if kind == "slope" and i >= at:
            value += size * (i - at + 1)
        elif kind == "step" and i >= at:
            value += size
        elif kind == "outlier" and i == at:
            value = 160
        values.append(value)
    return values


def _first_alarm(values, **kwargs):
    """The reading at which the detector, run as each reading arrives, first alarms (None if never)."""
    for end in range(7, len(values) + 1):
        result = level_drift(values[:end], scale_floor=FLOOR, **kwargs)
        if result is not None and result.direction is not None:
            return end - 1
    return None


# --- synthetic series --------------------------------------------------------------------------------------


def test_stable_noisy_series_rarely_alarm():
    alarms = [_first_alarm(_stay(seed)) for seed in range(100)]

    assert sum(alarm is not None for alarm in alarms) <= 5  # at most 5 % of 30-reading stays


@pytest.mark.parametrize(("kind", "size", "median_delay"), [("slope", 2.0, 8), ("step", 15.0, 4)])
def test_a_sustained_rise_is_found_within_a_few_readings(kind, size, median_delay):
    alarms = [_first_alarm(_stay(seed, kind=kind, size=size)) for seed in range(40)]

    delays = [alarm - 10 for alarm in alarms if alarm is not None and alarm >= 10]
    assert len(delays) >= 38
    assert statistics.median(delays) <= median_delay


def test_one_reading_however_far_off_never_alarms():
    flat = [80.0] * 12

    for position in range(6, 12):
        series = flat[:position] + [200.0] + flat[position + 1 :]
        result = level_drift(series, scale_floor=FLOOR)
        assert result is not None and result.direction is None
        assert result.upper <= 3.0 - 1.0  # clip minus allowance


def test_two_wild_readings_do_not_alarm_but_a_run_of_them_does():
    flat = [80.0] * 8

    assert level_drift([*flat, 200.0, 200.0], scale_floor=FLOOR).direction is None
    assert level_drift([*flat, 200.0, 200.0, 200.0, 200.0], scale_floor=FLOOR).direction == UP


def test_a_drift_that_came_back_no_longer_alarms():
    rising = [80.0] * 6 + [100.0] * 5

    assert level_drift(rising, scale_floor=FLOOR).direction == UP
    assert level_drift([*rising, *([80.0] * 10)], scale_floor=FLOOR).direction is None


def test_only_the_watched_direction_alarms_and_the_onset_is_where_the_run_began():
    spo2 = [97.0, 96.0, 97.0, 98.0, 97.0, 96.0] + [93.0, 92.0, 92.0, 91.0, 90.0]

    falling = level_drift(spo2, scale_floor=1.5, directions=(DOWN,))
    rising_only = level_drift(spo2, scale_floor=1.5, directions=(UP,))

    assert (falling.direction, falling.onset) == (DOWN, 6)
    assert rising_only.direction is None


def test_too_few_readings_for_a_baseline_is_no_answer():
    assert level_drift([80.0] * 6, scale_floor=FLOOR) is None


def test_the_baseline_is_robust_and_never_without_spread():
    baseline = robust_baseline([80, 82, 81, 250, 79], scale_floor=5)

    assert baseline.centre == 81 and baseline.scale == 5
    with pytest.raises(ValueError):
        robust_baseline([80, 80, 80])
    with pytest.raises(ValueError):
        Cusum(allowance=1, threshold=0)


def test_prediction_errors_are_zero_on_a_straight_line():
    assert prediction_errors([1, 2, 3, 4, 10]) == [0.0, 0.0, 5.0]


# --- the real series: KDD-TSAD 135 (internal bleeding) -----------------------------------------------------


@pytest.fixture(scope="module")
def kdd_135():
    from aeon.datasets import load_kdd_tsad_135

    series, labels = load_kdd_tsad_135()
    normal, _labels = load_kdd_tsad_135(split="train")  # the dataset's anomaly-free opening stretch
    window = [index for index, label in enumerate(labels) if label == 1]
    return SimpleNamespace(series=list(series), normal=list(normal), start=window[0], end=window[-1])


def test_kdd_tsad_135_is_the_labelled_internal_bleeding_series(kdd_135):
    assert len(kdd_135.series) == 7501 and (kdd_135.start, kdd_135.end) == (4187, 4198)
    assert kdd_135.series[: len(kdd_135.normal)] == kdd_135.normal


@pytest.mark.parametrize(
    "cusum",
    [STREAM_CUSUM, Cusum(allowance=1.5, threshold=8, clip=6), Cusum(allowance=2, threshold=16, clip=8)],
    ids=["default", "lower-threshold", "higher-allowance"],
)
def test_kdd_tsad_135_anomaly_is_detected_without_false_alarms_before_it(kdd_135, cusum):
    alarms = stream_alarms(kdd_135.series, reference=kdd_135.normal, cusum=cusum)

    before = [index for index in alarms if index < kdd_135.start]
    inside = [index for index in alarms if kdd_135.start <= index <= kdd_135.end + 5]
    after = [index for index in alarms if index > kdd_135.end + 5]
    assert before == []
    assert inside and inside[0] <= kdd_135.end
    assert after == []


def test_kdd_tsad_135_first_alarm_with_the_default_settings(kdd_135):
    alarms = stream_alarms(kdd_135.series, reference=kdd_135.normal)

    assert alarms[0] == 4190


# --- the service on charted vital signs --------------------------------------------------------------------


@pytest.fixture
def inpatient(db):
    ward, doctor, nurse, patient, encounter = ward_with_inpatient()
    return SimpleNamespace(ward=ward, doctor=doctor, nurse=nurse, patient=patient, encounter=encounter)


def _chart(inpatient, heart_rates, *, start_hours_ago=24, spo2=None):
    """One vital-sign set per heart rate, hourly from `start_hours_ago`; returns the set ids."""
    start = timezone.now() - timedelta(hours=start_hours_ago)
    saturations = spo2 or [97] * len(heart_rates)
    set_ids = []
    for i, (heart_rate, saturation) in enumerate(zip(heart_rates, saturations, strict=True)):
        rows = vital_signs_record(
            patient=inpatient.patient,
            recorded_by=inpatient.nurse,
            encounter=inpatient.encounter,
            taken_at=start + timedelta(hours=i),
            heart_rate=heart_rate,
            spo2=saturation,
            temperature=Decimal("37.0"),
        )
        set_ids.append(rows[0].set_id)
    return set_ids


@pytest.mark.django_db
def test_a_rising_heart_rate_raises_one_drift_alert_for_the_ward(inpatient):
    sets = _chart(inpatient, [78, 82, 80, 79, 81, 80, 84, 88, 93, 97, 102, 106])

    for set_id in sets:
        drift_evaluate(set_id=set_id)

    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.ward, alert.patient) == (
        "vital_drift",
        "medium",
        inpatient.ward,
        inpatient.patient,
    )
    assert (alert.detail["code"], alert.detail["direction"], alert.detail["baseline"]) == ("heart_rate", "up", "80.0")
    assert alert.title.startswith("Heart rate drifting up:")
    assert alert.occurrences >= 2  # the sets after the first alarm were merged into it
    assert alert.detail["latest"]["series"][-1]["value"] == "106"
    assert AccessLog.objects.filter(object_type="ai.alert", action="create").count() == alert.occurrences


@pytest.mark.django_db
def test_one_high_reading_raises_no_drift_alert(inpatient):
    sets = _chart(inpatient, [78, 82, 80, 79, 81, 80, 150, 80, 79])

    for set_id in sets:
        drift_evaluate(set_id=set_id)

    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_drift_evaluation_is_idempotent(inpatient):
    sets = _chart(inpatient, [80, 80, 81, 79, 80, 80, 95, 100, 104, 108])
    drift_evaluate(set_id=sets[-1])

    drift_evaluate(set_id=sets[-1])

    alert = Alert.objects.get()
    assert alert.occurrences == 1


@pytest.mark.django_db
def test_a_falling_spo2_is_watched_a_rising_one_is_not(inpatient):
    falling = _chart(inpatient, [80] * 11, spo2=[97, 96, 97, 98, 97, 96, 93, 92, 92, 91, 90])
    rising = _chart(inpatient, [80] * 11, start_hours_ago=150, spo2=[90, 91, 90, 92, 91, 90, 95, 96, 97, 98, 98])

    drift_evaluate(set_id=rising[-1])
    assert not Alert.objects.exists()
    drift_evaluate(set_id=falling[-1])

    alert = Alert.objects.get()
    assert (alert.detail["code"], alert.detail["direction"]) == ("spo2", "down")
