"""The census page, its CSV export and the census API."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse

from hospital.core.models import AccessLog
from scheduling.models import WardDailyCensus
from tests.factories import UserFactory
from tests.scheduling.census_support import at, bed, cleaning, make_ward

pytestmark = pytest.mark.django_db

START = date(2025, 6, 1)
END = START + timedelta(days=9)


@pytest.fixture
def wards():
    a = make_ward("A", beds=4, target=60)
    b = make_ward("B", beds=2, target=30)
    for n in range(10):
        day = START + timedelta(days=n)
        WardDailyCensus.objects.create(ward=a, date=day, occupied_at_midnight=3, admissions=2, discharges=1, capacity=4)
        WardDailyCensus.objects.create(ward=b, date=day, occupied_at_midnight=1, admissions=1, discharges=1, capacity=2)
    cleaning(bed(b, "01"), at(START, 9), 90)  # over B's 30-minute target
    cleaning(bed(a, "01"), at(START, 9), 30)
    return a, b


@pytest.fixture
def bed_manager(client):
    user = UserFactory(username="bm.chen", roles=["bed_manager"])
    client.force_login(user)
    return user


def _query(**extra):
    return {"start": START.isoformat(), "end": END.isoformat(), **extra}


def test_page_shows_indicators_targets_and_charts(client, bed_manager, wards, django_assert_max_num_queries):
    # session, user, roles; wards, census aggregate, length of stay, turnaround, daily rows, ward choices of the
    # form; the session's save in a savepoint (3)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("scheduling:census"), _query())

    html = response.content.decode()
    assert response.status_code == 200
    row_a = html.split('<tr data-ward="A">')[1].split("</tr>")[0]
    row_b = html.split('<tr data-ward="B">')[1].split("</tr>")[0]
    assert "75%" in row_a and "badge-ok" in row_a
    assert "50%" in row_b and "Over target" in row_b
    assert html.count('data-ward="A"') == 2  # the table row and the occupancy line
    assert html.count("<polyline") == 2
    assert html.count('data-kind="admissions"') == 10 and html.count('data-kind="discharges"') == 10
    assert "Admissions and discharges per day" in html


def test_page_query_count_does_not_grow_with_wards(client, bed_manager, wards, django_assert_max_num_queries):
    for code in ("C", "D", "E", "F"):
        ward = make_ward(code, beds=2)
        WardDailyCensus.objects.create(ward=ward, date=START, occupied_at_midnight=1, capacity=2)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("scheduling:census"), _query())

    assert response.content.decode().count("<polyline") == 6


def test_page_filters_wards_and_defaults_to_the_last_90_days(client, bed_manager, wards):
    a, b = wards
    html = client.get(reverse("scheduling:census"), _query(wards=[b.pk])).content.decode()
    assert '<tr data-ward="B">' in html and '<tr data-ward="A">' not in html

    default = client.get(reverse("scheduling:census"))
    assert default.status_code == 200
    assert (default.context["end"] - default.context["start"]).days == 89


def test_long_ranges_draw_weekly_bars(client, bed_manager, wards):
    html = client.get(reverse("scheduling:census"), {"start": "2025-01-01", "end": END.isoformat()}).content.decode()

    assert "Admissions and discharges per week" in html
    assert html.count('data-kind="admissions"') == 2  # the ten census days fall into two weeks


def test_bad_range_is_a_400_with_the_reason(client, bed_manager, wards):
    response = client.get(reverse("scheduling:census"), {"start": END.isoformat(), "end": START.isoformat()})

    assert response.status_code == 400
    assert "The start date is after the end date." in response.content.decode()


def test_clinicians_without_the_role_are_refused_and_finance_may_look(client, wards):
    client.force_login(UserFactory(username="pharm", roles=["pharmacist"]))
    assert client.get(reverse("scheduling:census")).status_code == 403
    client.force_login(UserFactory(username="fin", roles=["finance_officer"]))
    assert client.get(reverse("scheduling:census")).status_code == 200


def test_csv_export_holds_the_table_and_is_logged(client, bed_manager, wards):
    response = client.get(reverse("scheduling:census_export"), _query())

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["ward"] for row in rows] == ["A", "B", "TOTAL"]
    assert rows[0]["occupancy_rate_percent"] == "75.0"
    assert rows[1]["turnaround_median_minutes"] == "90.0" and rows[1]["turnaround_target_minutes"] == "30"
    assert rows[2]["admissions"] == "30"
    entry = AccessLog.objects.get(action="export")
    assert entry.object_type == "scheduling.census" and entry.actor == bed_manager
    assert entry.patient_external_id is None
    assert entry.detail["wards"] == ["A", "B"] and entry.detail["start"] == START.isoformat()


def test_api_lists_daily_rows_for_a_ward(api_client, wards):
    a, b = wards
    api_client.force_authenticate(UserFactory(username="bm.api", roles=["bed_manager"]))

    response = api_client.get("/api/v1/scheduling/census/", _query(ward=str(b.external_id), end=START.isoformat()))

    assert response.status_code == 200
    assert response.json() == [
        {
            "ward": "B",
            "ward_id": str(b.external_id),
            "date": START.isoformat(),
            "admissions": 1,
            "discharges": 1,
            "transfers_in": 0,
            "transfers_out": 0,
            "occupied_at_midnight": 1,
            "capacity": 2,
            "occupancy_rate": 0.5,
        }
    ]
    by_code = api_client.get("/api/v1/scheduling/census/", _query(ward="A"))
    assert {row["ward"] for row in by_code.json()} == {"A"} and len(by_code.json()) == 10


def test_api_indicators_and_bad_input(api_client, wards, django_assert_max_num_queries):
    api_client.force_authenticate(UserFactory(username="bm.api", roles=["bed_manager"]))

    with django_assert_max_num_queries(7):
        response = api_client.get("/api/v1/scheduling/indicators/", _query())

    body = response.json()
    assert response.status_code == 200
    assert [item["ward"] for item in body["wards"]] == ["A", "B"]
    assert body["wards"][1]["turnaround_exceeds_target"] is True
    assert body["total"]["ward"] is None and body["total"]["admissions"] == 30
    assert body["total"]["occupancy_rate"] == pytest.approx((30 + 10) / (40 + 20))

    unknown = api_client.get("/api/v1/scheduling/census/", _query(ward="NOPE"))
    backwards = api_client.get("/api/v1/scheduling/indicators/", {"start": "2025-06-10", "end": "2025-06-01"})
    assert unknown.status_code == 400 and "ward" in unknown.json()["error"]["fields"]
    assert backwards.status_code == 400 and "start" in backwards.json()["error"]["fields"]


def test_api_refuses_users_without_census_access(api_client, wards):
    api_client.force_authenticate(UserFactory(username="pharm", roles=["pharmacist"]))

    assert api_client.get("/api/v1/scheduling/indicators/").status_code == 403
