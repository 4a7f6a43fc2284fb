"""The bed plan's linear program: known optima, the order of preferences, and its promises on random days."""

import random

import pytest
from django.utils import translation

from ai.forecasting.plan import (
    LEND,
    OPEN_FLEXIBLE,
    UNPLACED,
    PlanCosts,
    PlanWard,
    Recommendation,
    explain,
    recommendation_detail,
    solve_day,
)


def ward(key, specialty, capacity, upper, *, flexible=0, expected=None):
    return PlanWard(key, f"W{key}", specialty, capacity, upper, expected if expected is not None else upper, flexible)


def test_overflow_goes_first_to_the_same_specialty_then_to_another():
    # given a ward 3 over, a same-specialty ward with 2 free and another specialty with 5 free
    wards = [ward(1, "cardiology", 20, 23), ward(2, "cardiology", 20, 18), ward(3, "respiratory", 20, 15)]

    plan = solve_day(wards)

    assert plan == [
        Recommendation(LEND, 1, 2, to_ward=2, same_specialty=True),
        Recommendation(LEND, 1, 1, to_ward=3, same_specialty=False),
    ]


def test_the_upper_quantile_is_rounded_up_to_whole_patients():
    plan = solve_day([ward(1, "cardiology", 20, 20.2), ward(2, "cardiology", 20, 10)])

    assert plan == [Recommendation(LEND, 1, 1, to_ward=2, same_specialty=True)]


def test_a_flexible_bed_comes_before_another_specialty_and_unplaced_is_the_last_resort():
    wards = [ward(1, "cardiology", 20, 23, flexible=2), ward(2, "cardiology", 20, 19), ward(3, "respiratory", 20, 15)]

    plan = solve_day(wards)

    assert plan == [Recommendation(LEND, 1, 1, to_ward=2, same_specialty=True), Recommendation(OPEN_FLEXIBLE, 1, 2)]
    # with a lower cross-specialty penalty the other specialty is used before flexible beds
    assert solve_day(wards, PlanCosts(cross_specialty_penalty=1.0, flexible_bed_cost=3.0)) == [
        Recommendation(LEND, 1, 1, to_ward=2, same_specialty=True),
        Recommendation(LEND, 1, 2, to_ward=3, same_specialty=False),
    ]
    assert solve_day([ward(1, "cardiology", 10, 14, flexible=1)]) == [
        Recommendation(OPEN_FLEXIBLE, 1, 1),
        Recommendation(UNPLACED, 1, 3),
    ]


def test_exclusive_specialties_neither_lend_nor_borrow_across_specialties():
    wards = [ward(1, "critical_care", 8, 10), ward(2, "general_medicine", 30, 20), ward(3, "general_medicine", 20, 22)]

    plan = solve_day(wards)

    assert Recommendation(UNPLACED, 1, 2) in plan  # intensive care overflow finds no general bed
    assert Recommendation(LEND, 3, 2, to_ward=2, same_specialty=True) in plan


def test_no_overflow_means_no_recommendation():
    assert solve_day([ward(1, "cardiology", 20, 19.9), ward(2, "cardiology", 20, 3)]) == []


@pytest.mark.parametrize("seed", range(20))
def test_random_days_place_every_patient_once_within_what_each_ward_can_give(seed):
    rng = random.Random(seed)
    specialties = ["cardiology", "general_medicine", "critical_care"]
    wards = [
        ward(k, rng.choice(specialties), rng.randint(5, 30), rng.uniform(0, 40), flexible=rng.randint(0, 3))
        for k in range(1, rng.randint(2, 9))
    ]
    by_key = {w.key: w for w in wards}

    plan = solve_day(wards)

    for w in wards:
        mine = [r for r in plan if r.ward == w.key]
        assert sum(r.patients for r in mine) == w.overflow
        assert sum(r.patients for r in mine if r.action == OPEN_FLEXIBLE) <= w.flexible
        assert sum(r.patients for r in plan if r.to_ward == w.key) <= w.spare
    # the fewest unplaced: any patient left over had nowhere allowed to go
    for r in plan:
        if r.action == UNPLACED:
            source = by_key[r.ward]
            used = {x.to_ward: 0 for x in plan if x.to_ward}
            for x in plan:
                if x.to_ward:
                    used[x.to_ward] += x.patients
            open_lenders = [
                w
                for w in wards
                if w.spare > used.get(w.key, 0)
                and w.key != source.key
                and (w.specialty == source.specialty or "critical_care" not in (w.specialty, source.specialty))
            ]
            assert open_lenders == []


def test_each_recommendation_is_explained_with_its_numbers():
    wards = {1: ward(1, "cardiology", 20, 23.4, expected=21.2), 2: ward(2, "cardiology", 20, 18)}
    recommendation = solve_day(list(wards.values()))[0]
    detail = recommendation_detail(recommendation, wards, quantile=0.9)

    with translation.override("en"):
        text = explain(action=LEND, patients=recommendation.patients, same_specialty=True, detail=detail)

    assert text == (
        "W1 expects 21.2 patients at midnight and up to 23.4 (90% upper bound) for 20 beds: 4 over. "
        "Place 2 patients in W2, a ward of the same specialty with 2 beds to spare (up to 18 of 20 beds in use)."
    )
