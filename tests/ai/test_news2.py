"""NEWS2 (RCP 2017): every band boundary of every parameter, the risk bands, and incomplete sets."""

from decimal import Decimal

import pytest

from ai import news2
from ai.news2 import (
    RISK_HIGH,
    RISK_LOW,
    RISK_LOW_MEDIUM,
    RISK_MEDIUM,
    news2_score,
    score_air_or_oxygen,
    score_consciousness,
    score_pulse,
    score_respiration_rate,
    score_spo2_scale_1,
    score_spo2_scale_2,
    score_systolic_bp,
    score_temperature,
)

# A complete set scoring 0 on every parameter; tests change one or two readings.
NORMAL = {
    "respiratory_rate": 16,
    "spo2": 97,
    "on_oxygen": False,
    "systolic_bp": 120,
    "pulse": 70,
    "consciousness": "A",
    "temperature": Decimal("37.0"),
}


@pytest.mark.parametrize(
    ("rate", "score"),
    [(4, 3), (8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3), (40, 3)],
)
def test_respiration_rate_bands(rate, score):
    assert score_respiration_rate(rate) == score


@pytest.mark.parametrize(
    ("spo2", "score"),
    [(70, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)],
)
def test_spo2_scale_1_bands(spo2, score):
    assert score_spo2_scale_1(spo2) == score


@pytest.mark.parametrize(
    ("spo2", "on_oxygen", "score"),
    [
        (75, False, 3),
        (83, True, 3),
        (84, False, 2),
        (85, True, 2),
        (86, False, 1),
        (87, True, 1),
        (88, True, 0),
        (92, True, 0),
        (88, False, 0),
        (92, False, 0),
        # at 93 and above only oxygen makes a high saturation score: on air it is 0
        (93, False, 0),
        (97, False, 0),
        (100, False, 0),
        (93, True, 1),
        (94, True, 1),
        (95, True, 2),
        (96, True, 2),
        (97, True, 3),
        (100, True, 3),
    ],
)
def test_spo2_scale_2_bands(spo2, on_oxygen, score):
    assert score_spo2_scale_2(spo2, on_oxygen=on_oxygen) == score


def test_spo2_scale_2_above_92_cannot_be_scored_without_knowing_about_oxygen():
    assert score_spo2_scale_2(95, on_oxygen=None) is None
    # below 93 the chart does not depend on oxygen
    assert score_spo2_scale_2(85, on_oxygen=None) == 2


def test_air_or_oxygen():
    assert score_air_or_oxygen(True) == 2
    assert score_air_or_oxygen(False) == 0


@pytest.mark.parametrize(
    ("systolic", "score"),
    [(60, 3), (90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3), (260, 3)],
)
def test_systolic_pressure_bands(systolic, score):
    assert score_systolic_bp(systolic) == score


@pytest.mark.parametrize(
    ("pulse", "score"),
    [(30, 3), (40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2), (130, 2), (131, 3), (180, 3)],
)
def test_pulse_bands(pulse, score):
    assert score_pulse(pulse) == score


@pytest.mark.parametrize(("level", "score"), [("A", 0), ("C", 3), ("V", 3), ("P", 3), ("U", 3), ("a", 0)])
def test_consciousness(level, score):
    assert score_consciousness(level) == score


def test_consciousness_outside_acvpu_is_refused():
    with pytest.raises(ValueError, match="consciousness"):
        score_consciousness("X")


@pytest.mark.parametrize(
    ("celsius", "score"),
    [
        ("33.0", 3),
        ("35.0", 3),
        ("35.1", 1),
        ("36.0", 1),
        ("36.1", 0),
        ("38.0", 0),
        ("38.1", 1),
        ("39.0", 1),
        ("39.1", 2),
        ("41.0", 2),
    ],
)
def test_temperature_bands(celsius, score):
    assert score_temperature(Decimal(celsius)) == score


def test_readings_are_rounded_as_the_chart_is_read():
    # 8.4 breaths is read as 8, 8.5 as 9; 35.04 °C as 35.0, 35.05 as 35.1
    assert score_respiration_rate(Decimal("8.4")) == 3
    assert score_respiration_rate(Decimal("8.5")) == 1
    assert score_temperature(Decimal("35.04")) == 3
    assert score_temperature(Decimal("35.05")) == 1
    assert score_pulse("90.0000") == 0


def test_a_normal_set_scores_0_and_low_risk():
    result = news2_score(**NORMAL)

    assert (result.complete, result.total, result.risk, result.missing) == (True, 0, RISK_LOW, ())
    assert set(result.scores) == set(news2.PARAMETERS)


def test_worked_example_of_a_deteriorating_patient_scores_each_parameter():
    # RR 24 (2), SpO2 93 on scale 1 (2), on oxygen (2), systolic 105 (1), pulse 115 (2), alert (0), 38.5 °C (1)
    result = news2_score(
        respiratory_rate=24,
        spo2=93,
        on_oxygen=True,
        systolic_bp=105,
        pulse=115,
        consciousness="A",
        temperature=Decimal("38.5"),
    )

    assert result.scores == {
        "respiratory_rate": 2,
        "spo2": 2,
        "supplemental_oxygen": 2,
        "systolic_bp": 1,
        "heart_rate": 2,
        "consciousness": 0,
        "temperature": 1,
    }
    assert (result.total, result.risk) == (10, RISK_HIGH)
    assert "Emergency response" in str(result.response.response)


def test_worked_example_on_scale_2_a_target_saturation_on_oxygen_scores_nothing_for_spo2():
    # COPD with hypercapnia on oxygen at 90 %: scale 1 would give 3 for SpO2, scale 2 gives 0
    readings = {**NORMAL, "spo2": 90, "on_oxygen": True}

    on_scale_1 = news2_score(**readings)
    on_scale_2 = news2_score(**readings, spo2_scale=2)

    assert (on_scale_1.scores["spo2"], on_scale_1.total, on_scale_1.risk) == (3, 5, RISK_MEDIUM)
    assert (on_scale_2.scores["spo2"], on_scale_2.total, on_scale_2.risk) == (0, 2, RISK_LOW)
    assert on_scale_2.spo2_scale == 2


def test_over_oxygenation_scores_on_scale_2():
    result = news2_score(**{**NORMAL, "spo2": 98, "on_oxygen": True}, spo2_scale=2)

    assert result.scores["spo2"] == 3
    assert result.total == 5  # 3 for SpO2 + 2 for oxygen


@pytest.mark.parametrize(
    ("changes", "total", "risk"),
    [
        ({}, 0, RISK_LOW),
        ({"respiratory_rate": 21, "pulse": 111}, 4, RISK_LOW),  # 4 without any single 3
        ({"consciousness": "C"}, 3, RISK_LOW_MEDIUM),  # new confusion alone: a 3 in one parameter
        ({"temperature": Decimal("35.0"), "pulse": 91}, 4, RISK_LOW_MEDIUM),
        ({"respiratory_rate": 25, "temperature": Decimal("39.1")}, 5, RISK_MEDIUM),
        ({"respiratory_rate": 21, "pulse": 111, "temperature": Decimal("38.1")}, 5, RISK_MEDIUM),
        ({"systolic_bp": 91, "pulse": 111, "temperature": Decimal("39.1")}, 6, RISK_MEDIUM),
        ({"spo2": 91, "respiratory_rate": 25, "pulse": 91}, 7, RISK_HIGH),
        (
            {
                "respiratory_rate": 8,
                "spo2": 91,
                "on_oxygen": True,
                "systolic_bp": 90,
                "pulse": 131,
                "consciousness": "U",
                "temperature": Decimal("35.0"),
            },
            20,
            RISK_HIGH,
        ),
    ],
)
def test_risk_band_boundaries(changes, total, risk):
    result = news2_score(**{**NORMAL, **changes})

    assert (result.total, result.risk) == (total, risk)


def test_each_risk_band_has_the_rcp_response():
    assert "Ward-based response" in str(news2_score(**NORMAL).response.response)
    low_medium = news2_score(**{**NORMAL, "consciousness": "V"})
    assert "Urgent ward-based response" in str(low_medium.response.response)
    medium = news2_score(**{**NORMAL, "respiratory_rate": 25, "temperature": Decimal("39.1")})
    assert "Key threshold for an urgent response" in str(medium.response.response)


@pytest.mark.parametrize(
    "absent", ["respiratory_rate", "spo2", "on_oxygen", "systolic_bp", "pulse", "consciousness", "temperature"]
)
def test_a_set_missing_any_parameter_is_incomplete_never_normal(absent):
    result = news2_score(**{**NORMAL, absent: None})

    assert result.complete is False
    assert result.total is None and result.risk is None and result.response is None
    assert len(result.missing) == 1


def test_an_incomplete_set_keeps_the_scores_it_has_and_names_what_is_missing():
    result = news2_score(spo2=85, respiratory_rate=26)

    assert result.scores == {"spo2": 3, "respiratory_rate": 3}
    assert result.missing == ("supplemental_oxygen", "systolic_bp", "heart_rate", "consciousness", "temperature")
    assert result.total is None


def test_unknown_scale_is_refused():
    with pytest.raises(ValueError, match="spo2_scale"):
        news2_score(**NORMAL, spo2_scale=3)
