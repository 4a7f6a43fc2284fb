"""Census outside the forecast's 95 % interval: a ward alert (no patient), with a fake interval function where
no forecast rows exist; the census snapshot enqueues the check for each ward."""

import sys
from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction

from ai import tasks
from ai.models import Alert
from ai.selectors import alert_open_count
from ai.services import census_check
from hospital.celery import app
from scheduling.models import WardDailyCensus
from scheduling.services.census import census_snapshot_take
from tests.emr.test_access_support import assign, make_user
from tests.scheduling.census_support import make_ward

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 2)


@pytest.fixture
def ward(db):
    ward = make_ward("GM1", beds=30)
    WardDailyCensus.objects.create(ward=ward, date=DAY, occupied_at_midnight=31, capacity=30, admissions=9)
    return ward


class FakeIntervals:
    """The intervals a fake forecast_interval answers with, and the calls it got."""

    def __init__(self, intervals, calls):
        self.intervals, self.calls = intervals, calls

    def set(self, ward, day, mean, low, high):
        self.intervals[(ward.pk, day)] = (mean, low, high)


@pytest.fixture
def interval(monkeypatch):
    """Replace the forecasting app's interval function by one that knows only what the test sets."""
    intervals: dict = {}
    calls = []

    def fake(*, ward_id, day):
        calls.append((ward_id, day))
        return intervals.get((ward_id, day))

    import ai.forecasting.selectors

    monkeypatch.setattr(ai.forecasting.selectors, "forecast_interval", fake)
    return FakeIntervals(intervals, calls)


def test_a_census_above_the_interval_raises_a_high_ward_alert(ward, interval):
    interval.set(ward, DAY, 24.6, 19.2, 29.8)

    alert = census_check(ward_id=ward.pk, day=DAY)

    assert interval.calls == [(ward.pk, DAY)]
    assert (alert.kind, alert.severity, alert.ward, alert.patient) == ("census", "high", ward, None)
    assert alert.detail == {
        "ward": "GM1",
        "ward_name_en": "Ward GM1",
        "ward_name_zh": "GM1病区",
        "day": "2026-03-02",
        "census": 31,
        "capacity": 30,
        "mean": "24.6",
        "q025": "19.2",
        "q975": "29.8",
        "direction": "above",
    }
    assert alert.title == "GM1 census 31 on 2026-03-02 above the forecast's 95% interval (19.2-29.8)"


def test_a_census_below_the_interval_raises_a_medium_alert(ward, interval):
    interval.set(ward, DAY, 40, 35.5, 44)

    alert = census_check(ward_id=ward.pk, day=DAY)

    assert (alert.severity, alert.detail["direction"]) == ("medium", "below")
    assert "below the forecast's 95% interval (35.5-44)" in alert.title


@pytest.mark.parametrize("bounds", [(31, 31), (25, 31), (31, 40), (20, 35)], ids=["both", "upper", "lower", "inside"])
def test_a_census_on_or_inside_the_interval_raises_nothing(ward, interval, bounds):
    interval.set(ward, DAY, 30, *bounds)

    assert census_check(ward_id=ward.pk, day=DAY) is None
    assert not Alert.objects.exists()


def test_no_forecast_no_alert(ward, interval):
    assert census_check(ward_id=ward.pk, day=DAY) is None  # the fake knows no interval for the day
    assert not Alert.objects.exists()


def test_the_real_interval_function_without_forecast_rows_raises_nothing(ward):
    assert census_check(ward_id=ward.pk, day=DAY) is None
    assert not Alert.objects.exists()


def test_without_the_forecasting_app_the_check_raises_nothing(ward, monkeypatch):
    monkeypatch.setitem(sys.modules, "ai.forecasting.selectors", None)  # import fails

    assert census_check(ward_id=ward.pk, day=DAY) is None


def test_no_census_row_no_alert(ward, interval):
    interval.set(ward, DAY + timedelta(days=1), 24, 20, 28)

    assert census_check(ward_id=ward.pk, day=DAY + timedelta(days=1)) is None


def test_checking_again_changes_nothing_and_the_next_day_is_merged(ward, interval):
    interval.set(ward, DAY, 24, 20, 28)
    interval.set(ward, DAY + timedelta(days=1), 24, 20, 28)
    WardDailyCensus.objects.create(ward=ward, date=DAY + timedelta(days=1), occupied_at_midnight=32, capacity=30)

    first = census_check(ward_id=ward.pk, day=DAY)
    census_check(ward_id=ward.pk, day=DAY)
    second = census_check(ward_id=ward.pk, day=DAY + timedelta(days=1))

    assert second.pk == first.pk
    second.refresh_from_db()
    assert second.occurrences == 2 and second.detail["latest"]["census"] == 32


def test_bed_managers_and_the_wards_clinicians_see_census_alerts(ward, interval):
    interval.set(ward, DAY, 24, 20, 28)
    census_check(ward_id=ward.pk, day=DAY)
    ward_nurse = make_user("nurse.gm1", "nurse")
    assign(ward_nurse, ward)

    assert alert_open_count(user=make_user("bm.zhou", "bed_manager")) == 1
    assert alert_open_count(user=ward_nurse) == 1
    assert alert_open_count(user=make_user("dr.elsewhere", "doctor")) == 0


def test_a_census_alert_needs_a_ward_and_a_patient_alert_a_patient(ward):
    common = {
        "severity": "high",
        "title": "t",
        "first_seen_at": "2026-03-03T00:00Z",
        "last_seen_at": "2026-03-03T00:00Z",
    }

    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(kind="census", source_id="4b1c7c2e-0000-4000-8000-000000000001", dedup_key="a", **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            kind="news2", ward=ward, source_id="4b1c7c2e-0000-4000-8000-000000000002", dedup_key="b", **common
        )


def test_the_task_is_on_the_alerts_queue_and_takes_an_iso_day(ward, interval):
    interval.set(ward, DAY, 24, 20, 28)

    tasks.census_check_task.apply(args=[ward.pk, DAY.isoformat()]).get()

    assert tasks.census_check_task.queue == "alerts" and tasks.census_check_task.acks_late
    assert Alert.objects.get().kind == "census"


def test_the_snapshot_enqueues_the_check_of_each_ward_after_commit(db, django_capture_on_commit_callbacks, monkeypatch):
    from tests.scheduling.census_support import at, bed, make_encounter, stay

    gm1, gm2 = make_ward("GM1"), make_ward("GM2")
    encounter = make_encounter(at(DAY, 9), gm1)
    stay(encounter, bed(gm1, "01"), at(DAY, 9))
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: sent.append((name, options)))

    with django_capture_on_commit_callbacks(execute=True):
        census_snapshot_take(day=DAY)

    assert sent == [
        ("ai.tasks.census_check_task", {"args": [ward.pk, "2026-03-02"], "queue": "alerts"}) for ward in (gm1, gm2)
    ]
