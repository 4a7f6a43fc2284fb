"""The inbox page's new parts: filters, assign and resolve forms, the conflicting readings side by side, census
and drift cards, whom a NEWS2 escalation goes to, the menu badge."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from ai.models import Alert
from ai.services import alert_raise, conflict_check_set, news2_evaluate
from emr.services.observations import vital_signs_record
from tests.ai.support import record_vitals, ward_with_inpatient
from tests.emr.test_access_support import assign, make_user

pytestmark = pytest.mark.django_db

URL = "/alerts/"


@pytest.fixture
def ward1(db):
    ward, doctor, nurse, patient, encounter = ward_with_inpatient("W1")
    ward_doctor = make_user("dr.ward", "doctor")
    assign(ward_doctor, ward, role="doctor")
    news2_evaluate(
        set_id=record_vitals(patient, nurse, encounter=encounter, spo2=85, respiratory_rate=26, heart_rate=95)
    )
    return SimpleNamespace(
        ward=ward,
        doctor=doctor,
        ward_doctor=ward_doctor,
        nurse=nurse,
        patient=patient,
        encounter=encounter,
        alert=Alert.objects.get(),
    )


def _card(html, alert):
    return html.split(f'data-alert="{alert.external_id}"')[1].split("</article>")[0]


def test_a_news2_card_says_whom_the_escalation_goes_to(client, ward1):
    client.force_login(ward1.nurse)

    card = _card(client.get(URL).content.decode(), ward1.alert)

    recipients = card.split('data-testid="recipients"')[1].split("</p>")[0]
    assert "the ward&#x27;s registered nurses" in recipients
    assert "the medical team caring for the patient" in recipients
    assert f"{ward1.nurse} (nurse)" in recipients and f"{ward1.ward_doctor} (doctor)" in recipients
    assert f"{ward1.doctor} (attending doctor)" in recipients
    assert "Emergency response · Goes to" in card


def test_assign_and_resolve_from_the_page_keep_the_filters(client, ward1):
    client.force_login(ward1.nurse)
    card = _card(client.get(URL, {"kind": "news2"}).content.decode(), ward1.alert)
    assert f'<option value="{ward1.ward_doctor.external_id}"' in card

    assigned = client.post(
        reverse("ai:alert_assign", args=[ward1.alert.external_id]),
        {"assignee": str(ward1.ward_doctor.external_id), "query": "kind=news2&evil=1"},
    )
    resolved = client.post(
        reverse("ai:alert_resolve", args=[ward1.alert.external_id]),
        {"note": "Seen by the outreach team.", "query": "kind=news2"},
    )

    assert assigned.status_code == resolved.status_code == 302
    assert assigned["Location"] == f"{URL}?kind=news2"
    ward1.alert.refresh_from_db()
    assert (ward1.alert.assigned_to, ward1.alert.status, ward1.alert.resolved_by) == (
        ward1.ward_doctor,
        "resolved",
        ward1.nurse,
    )
    html = client.get(URL, {"status": "resolved"}).content.decode()
    card = _card(html, ward1.alert)
    assert "Resolved by" in card and "Seen by the outreach team." in card
    assert 'data-action="assigned"' in card and 'data-action="resolved"' in card
    assert "Resolve</button>" not in card


def test_resolving_without_a_note_is_refused_with_a_message(client, ward1):
    client.force_login(ward1.nurse)

    response = client.post(reverse("ai:alert_resolve", args=[ward1.alert.external_id]), {"note": " "}, follow=True)

    assert "Say how the alert was resolved." in response.content.decode()
    ward1.alert.refresh_from_db()
    assert ward1.alert.status == "open"


def test_an_unknown_filter_shows_an_error_not_a_failure(client, ward1):
    client.force_login(ward1.nurse)

    response = client.get(URL, {"kind": "nonsense", "status": "closed"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in html and "Choose one of" in html
    assert f'data-alert="{ward1.alert.external_id}"' in html  # the default inbox


def test_the_htmx_refresh_keeps_the_filters(client, ward1):
    client.force_login(ward1.nurse)

    html = client.get(URL, {"kind": "news2", "mine": "1"}).content.decode()

    assert f'hx-get="{URL}?kind=news2&amp;mine=1"' in html
    assert f'data-alert="{ward1.alert.external_id}"' not in html  # nothing is assigned to her yet


def test_conflicting_readings_are_shown_side_by_side_with_a_choice(client, ward1):
    monitor = make_user("monitor.w1", "nurse")
    assign(monitor, ward1.ward)
    now = timezone.now()
    vital_signs_record(
        patient=ward1.patient,
        recorded_by=monitor,
        encounter=ward1.encounter,
        heart_rate=128,
        source="device",
        taken_at=now - timedelta(minutes=6),
    )
    manual = vital_signs_record(
        patient=ward1.patient,
        recorded_by=ward1.nurse,
        encounter=ward1.encounter,
        heart_rate=84,
        taken_at=now - timedelta(minutes=2),
    )
    [alert] = conflict_check_set(set_id=manual[0].set_id)
    client.force_login(ward1.nurse)

    card = _card(client.get(URL, {"kind": "conflicting_data"}).content.decode(), alert)

    table = card.split('data-testid="conflict-readings"')[1].split("</table>")[0]
    assert "128 /min" in table and "84 /min" in table and "Device" in table and "Entered by hand" in table
    assert card.count('type="radio" name="accepted"') == 2
    response = client.post(
        reverse("ai:alert_resolve", args=[alert.external_id]),
        {"note": "Probe was loose", "accepted": str(manual[0].external_id)},
    )
    assert response.status_code == 302
    card = _card(client.get(URL, {"status": "resolved"}).content.decode(), alert)
    assert "Accepted" in card and "Rejected" in card


def test_a_bed_manager_sees_census_alerts_of_every_ward_and_no_patients(client, ward1):
    census = alert_raise(
        kind="census",
        dedup_key="census:test",
        source_id="4b1c7c2e-0000-4000-8000-000000000001",
        severity="high",
        detail={
            "ward": "W1",
            "day": date(2026, 3, 2).isoformat(),
            "census": 31,
            "capacity": 30,
            "mean": "24.6",
            "q025": "19.2",
            "q975": "29.8",
            "direction": "above",
        },
        ward_id=ward1.ward.pk,
    ).alert
    client.force_login(make_user("bm.zhou", "bed_manager"))

    html = client.get(URL).content.decode()

    assert f'data-alert="{census.external_id}"' in html
    assert f'data-alert="{ward1.alert.external_id}"' not in html
    card = _card(html, census)
    assert "W1 census 31 on 2026-03-02 above the forecast&#x27;s 95% interval (19.2-29.8)" in card
    assert 'data-testid="census">31 / 30<' in card


def test_the_badge_fragment_counts_open_alerts(client, ward1):
    client.force_login(ward1.nurse)

    badge = client.get(reverse("ai:alert_badge"), HTTP_HX_REQUEST="true")
    client.post(reverse("ai:alert_acknowledge", args=[ward1.alert.external_id]))
    after = client.get(reverse("ai:alert_badge"), HTTP_HX_REQUEST="true")

    assert badge.status_code == 200 and 'data-count="1"' in badge.content.decode()
    assert "1 open alert" in badge.content.decode()
    assert "no-cache" in badge["Cache-Control"] or "no-store" in badge["Cache-Control"]
    assert after.content.decode().strip() == ""


def test_the_list_refresh_also_refreshes_the_badge(client, ward1):
    client.force_login(ward1.nurse)

    response = client.get(URL, HTTP_HX_REQUEST="true")

    assert response["HX-Trigger"] == "badge-refresh"


def test_the_menu_loads_the_badge_after_the_page(client, ward1):
    client.force_login(ward1.nurse)

    html = client.get(reverse("core:home")).content.decode()

    assert f'data-nav-badge="ai:alerts" hx-get="{reverse("ai:alert_badge")}"' in html
    assert 'hx-trigger="load, every 60s' in html


def test_roles_without_an_inbox_get_an_empty_badge(client, ward1):
    client.force_login(make_user("ph.li", "pharmacist"))

    assert client.get(reverse("ai:alert_badge")).content.decode().strip() == ""
