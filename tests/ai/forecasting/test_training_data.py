"""The wards' history as the engine's series: census snapshots, gaps, days derived from bed stays, known-ahead."""

from datetime import date, datetime, time, timedelta

import numpy as np
import pytest
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone

from ai.forecasting.training_data import history_start, hospital_series, ward_histories
from emr.models import Encounter
from scheduling.models import Bed, BedRequest, BedStay, WardDailyCensus
from tests.ai.forecasting.test_nightly_support import WardSpec, census_history, make_ward, today
from tests.factories import UserFactory
from tests.scheduling.test_board_support import make_patient

pytestmark = pytest.mark.django_db


def at(day, hour: int):
    return timezone.make_aware(datetime.combine(day, time(hour)), timezone.get_default_timezone())


def stay(bed, *, start, end=None, end_reason="", expected=None, user=None):
    patient = make_patient(family_name="Li", given_name=f"M{BedStay.objects.count()}")
    encounter = Encounter.objects.create(patient=patient, encounter_class="inpatient", started_at=start, ward=bed.ward)
    return BedStay.objects.create(
        bed=bed,
        encounter=encounter,
        period=DateTimeTZRange(start, end),
        end_reason=end_reason,
        expected_discharge_on=expected,
        started_by=user or UserFactory(username="nurse.adm", roles=["nurse"]),
    )


def test_the_census_becomes_one_consecutive_series_per_ward_ending_yesterday():
    spec = WardSpec("GM1", "general_medicine", 20, 15.0, days=90, closed_beds=3)
    ward = make_ward(spec)
    yesterday = today() - timedelta(days=1)
    census_history(ward, spec, until=yesterday)

    [history] = ward_histories(horizon=14)

    series = history.series
    assert series.key == "GM1" and series.capacity == 20.0  # active beds only
    assert series.dates == [yesterday - timedelta(days=89 - i) for i in range(90)]
    stored = list(
        WardDailyCensus.objects.filter(ward=ward).order_by("date").values_list("occupied_at_midnight", flat=True)
    )
    assert series.values.tolist() == stored
    assert history.admissions.sum() == sum(WardDailyCensus.objects.values_list("admissions", flat=True))
    assert series.known == {}  # no bed stays recorded: nothing known ahead
    assert [s.key for s in hospital_series()] == ["GM1"]


def test_the_history_starts_at_a_quarter_so_it_stays_put_from_week_to_week():
    assert history_start(date(2026, 11, 26), 1095) == date(2023, 10, 1)  # 1095 days back: 2023-11-28
    assert history_start(date(2026, 12, 3), 1095) == date(2023, 10, 1)  # a week later: the same start
    assert history_start(date(2027, 1, 5), 1095) == date(2024, 1, 1)  # a new quarter
    assert history_start(date(2026, 3, 31), 90) == date(2026, 1, 1)
    spec = WardSpec("GM1", "general_medicine", 20, 15.0, days=200)
    census_history(make_ward(spec), spec, until=today() - timedelta(days=1))
    [history] = ward_histories(horizon=14, history_days=100)
    assert history.series.dates[0] == history_start(today() - timedelta(days=1), 100)
    assert len(history.series.dates) >= 100


def test_short_gaps_carry_the_census_forward_and_a_long_gap_cuts_the_series():
    spec = WardSpec("GM1", "general_medicine", 20, 15.0, days=90)
    ward = make_ward(spec)
    yesterday = today() - timedelta(days=1)
    census_history(ward, spec, until=yesterday)
    day_before_gap = WardDailyCensus.objects.get(ward=ward, date=yesterday - timedelta(days=12))
    WardDailyCensus.objects.filter(ward=ward, date__in=[yesterday - timedelta(days=d) for d in (10, 11)]).delete()

    [history] = ward_histories()

    index = history.series.dates.index(yesterday - timedelta(days=11))
    assert history.filled_days == 2
    assert history.series.values[index] == history.series.values[index + 1] == day_before_gap.occupied_at_midnight

    WardDailyCensus.objects.filter(
        ward=ward, date__range=(yesterday - timedelta(days=60), yesterday - timedelta(days=40))
    ).delete()
    [history] = ward_histories()
    assert history.series.dates[0] == yesterday - timedelta(days=39)


def test_days_without_a_snapshot_are_derived_from_the_bed_stays():
    spec = WardSpec("GM1", "general_medicine", 4, 2.0, days=30)
    ward = make_ward(spec)
    t = today()
    census_history(ward, spec, until=t - timedelta(days=10))  # snapshots stop ten days ago
    beds = list(Bed.objects.filter(ward=ward).order_by("code"))
    stay(beds[0], start=at(t - timedelta(days=8), 10), end=at(t - timedelta(days=3), 12), end_reason="discharge")
    stay(beds[1], start=at(t - timedelta(days=5), 9))

    [history] = ward_histories()

    values = dict(zip(history.series.dates, history.series.values.tolist(), strict=True))
    assert history.derived_days == 8  # from the first stay's day to yesterday
    assert values[t - timedelta(days=8)] == 1
    assert values[t - timedelta(days=5)] == 2
    assert values[t - timedelta(days=3)] == 1  # discharged at noon
    assert values[t - timedelta(days=1)] == 1
    # the day between the last snapshot and the first stay carries the last snapshot forward
    assert values[t - timedelta(days=9)] == values[t - timedelta(days=10)]
    flows = dict(zip(history.series.dates, zip(history.admissions, history.discharges, strict=True), strict=True))
    assert flows[t - timedelta(days=8)] == (1, 0) and flows[t - timedelta(days=3)] == (0, 1)


def test_planned_discharges_and_booked_admissions_are_known_ahead_once_recorded_long_enough(settings):
    settings.FORECAST_KNOWN_FEATURE_MIN_DAYS = 5
    t = today()
    big = make_ward(WardSpec("GM1", "general_medicine", 20, 10.0))
    small = make_ward(WardSpec("GM2", "general_medicine", 10, 5.0))
    for ward in (big, small):
        census_history(ward, WardSpec(ward.code, "general_medicine", 1, 1.0, days=30), until=t - timedelta(days=1))
    nurse = UserFactory(username="nurse.adm", roles=["nurse"])
    beds = list(Bed.objects.filter(ward=big).order_by("code"))
    stay(beds[0], start=at(t - timedelta(days=20), 10), expected=t + timedelta(days=2), user=nurse)
    # a discharge planned for a past day counts on that day while the patient was still there
    stay(beds[1], start=at(t - timedelta(days=20), 10), end=at(t - timedelta(days=4), 11), end_reason="discharge",
         expected=t - timedelta(days=4), user=nurse)  # fmt: skip
    for n in range(3):
        BedRequest.objects.create(
            patient=make_patient(given_name=f"E{n}"),
            source="elective",
            specialty="general_medicine",
            needed_from=at(t + timedelta(days=3), 8),
            requested_by=nurse,
        )

    histories = {h.ward.code: h for h in ward_histories(horizon=14)}

    gm1, gm2 = histories["GM1"].series, histories["GM2"].series
    today_index = len(gm1.dates)
    assert set(gm1.known) == {"booked_admissions", "planned_discharges"}
    assert len(gm1.known["planned_discharges"]) == len(gm1.dates) + 14
    assert gm1.known["planned_discharges"][today_index + 2] == 1
    assert gm1.known["planned_discharges"][gm1.dates.index(t - timedelta(days=4))] == 1
    assert gm1.known["planned_discharges"].sum() == 2
    # three booked admissions of the specialty, shared 20:10 by beds
    assert np.isclose(gm1.known["booked_admissions"][today_index + 3], 2.0)
    assert np.isclose(gm2.known["booked_admissions"][today_index + 3], 1.0)

    settings.FORECAST_KNOWN_FEATURE_MIN_DAYS = 180  # stays recorded for 20 days only: not yet used
    assert all(h.series.known == {} for h in ward_histories())
