"""Reading the access log: the selector, the API and the auditor's page, for auditors and administrators only."""

import uuid
from datetime import timedelta

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from hospital.core.models import AccessLog
from hospital.core.request_context import RequestContext
from hospital.core.selectors.access_log import access_log_list
from hospital.core.services.access_log import access_log_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

API_URL = "/api/v1/core/access-log/"
PAGE_URL = reverse("core:access_log")
PATIENT = uuid.UUID("2f7a1c84-0c1e-4d1b-9a55-6b1e2f6c9d10")


@pytest.fixture
def auditor():
    return UserFactory(username="auditor1", roles=["auditor"])


@pytest.fixture
def entries(doctor):
    nurse = UserFactory(username="nurse1", roles=["nurse"])
    web = RequestContext(ip_address="10.0.0.5", channel="web")
    return [
        access_log_record(
            actor=doctor,
            action=AccessLog.Action.READ,
            object_type="emr.patient",
            object_id=str(PATIENT),
            patient_external_id=PATIENT,
            purpose="ward round",
            context=web,
        ),
        access_log_record(
            actor=nurse,
            action=AccessLog.Action.WRITE,
            object_type="emr.observation",
            patient_external_id=PATIENT,
            context=web,
        ),
        access_log_record(
            actor=doctor,
            action=AccessLog.Action.EXPORT,
            object_type="emr.patient",
            patient_external_id=uuid.uuid4(),
            purpose="referral letter",
            context=web,
        ),
    ]


# --- selector ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["doctor", "nurse", "records_archivist", "integration_client", None])
def test_selector_refuses_everyone_but_auditors_and_administrators(role, entries):
    user = UserFactory(roles=[role] if role else [])

    with pytest.raises(PermissionDenied):
        access_log_list(fetched_by=user)


@pytest.mark.parametrize("user_kwargs", [{"roles": ["auditor"]}, {"roles": ["administrator"]}, {"is_superuser": True}])
def test_selector_lists_newest_first_for_auditors_administrators_and_superusers(user_kwargs, entries):
    user = UserFactory(**user_kwargs)

    assert list(access_log_list(fetched_by=user)) == entries[::-1]


def test_selector_filters(auditor, entries, doctor):
    read, write, export = entries
    now = timezone.now()

    assert list(access_log_list(fetched_by=auditor, patient_external_id=PATIENT)) == [write, read]
    assert list(access_log_list(fetched_by=auditor, actor=doctor)) == [export, read]
    assert list(access_log_list(fetched_by=auditor, actor="NURSE1")) == [write]
    assert list(access_log_list(fetched_by=auditor, action="export")) == [export]
    assert list(access_log_list(fetched_by=auditor, since=write.occurred_at)) == [export, write]
    assert list(access_log_list(fetched_by=auditor, until=write.occurred_at)) == [read]
    assert list(access_log_list(fetched_by=auditor, since=now + timedelta(minutes=1))) == []


# --- API ---------------------------------------------------------------------------------------


def test_api_refuses_a_doctor_with_403_in_the_common_error_format(doctor_api, entries):
    response = doctor_api.get(API_URL)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_api_requires_authentication(api_client, entries):
    assert api_client.get(API_URL).status_code in (401, 403)


def test_api_lists_filtered_and_paginated_for_an_auditor(api_client, auditor, entries, django_assert_num_queries):
    api_client.force_authenticate(auditor)

    # roles, count, page
    with django_assert_num_queries(3):
        response = api_client.get(API_URL, {"patient": str(PATIENT), "action": "read"})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    (row,) = body["results"]
    read = entries[0]
    assert row["sequence"] == read.id
    assert row["external_id"] == str(read.external_id)
    assert (row["actor_username"], row["action"], row["purpose"], row["ip_address"], row["channel"]) == (
        "doctor1",
        "read",
        "ward round",
        "10.0.0.5",
        "web",
    )
    assert row["row_hash"] == read.row_hash
    assert api_client.get(API_URL, {"actor": "nurse1"}).json()["count"] == 1
    assert api_client.get(API_URL).json()["count"] == 3


def test_api_rejects_bad_filters_with_field_errors(api_client, auditor):
    api_client.force_authenticate(auditor)

    response = api_client.get(API_URL, {"patient": "nope", "action": "peek"})

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"patient", "action"}


def test_api_is_in_the_schema(client):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][API_URL]["get"]

    assert {p["name"] for p in operation["parameters"]} >= {"patient", "actor", "action", "since", "until", "page"}


# --- page --------------------------------------------------------------------------------------


def test_page_forbidden_for_a_doctor_and_sends_strangers_to_sign_in(client, doctor):
    assert client.get(PAGE_URL).status_code == 302
    client.force_login(doctor)

    assert client.get(PAGE_URL).status_code == 403


def test_page_lists_entries_for_an_auditor(client, auditor, entries, django_assert_num_queries):
    client.force_login(auditor)

    # session, user, roles (asked once, cached on the user), count, page; the session save (3) on every request
    with django_assert_num_queries(8):
        response = client.get(PAGE_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert list(response.context["entries"]) == entries[::-1]
    assert "ward round" in html and "referral letter" in html and "10.0.0.5" in html
    assert "Verify chain" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"patient": str(PATIENT)}, [1, 0]),
        ({"user": "doctor1"}, [2, 0]),
        ({"action": "write"}, [1]),
        ({"date_from": "2000-01-01", "date_to": "2000-01-31"}, []),
    ],
)
def test_page_filters(client, auditor, entries, query, expected):
    client.force_login(auditor)

    response = client.get(PAGE_URL, query)

    assert list(response.context["entries"]) == [entries[i] for i in expected]


def test_page_date_range_includes_the_whole_last_day(client, auditor, entries):
    client.force_login(auditor)
    today = timezone.localdate()

    response = client.get(PAGE_URL, {"date_from": today.isoformat(), "date_to": today.isoformat()})

    assert len(response.context["entries"]) == 3


def test_page_shows_form_errors_instead_of_entries(client, auditor, entries):
    client.force_login(auditor)

    response = client.get(PAGE_URL, {"patient": "nope", "date_from": "2026-02-02", "date_to": "2026-02-01"})

    assert response.status_code == 200
    assert list(response.context["entries"]) == []
    assert response.context["form"].errors.keys() == {"patient", "__all__"}
    assert 'class="errorlist' in response.content.decode()


def test_page_paginates_by_fifty_and_keeps_the_filters(client, auditor):
    for n in range(51):
        access_log_record(actor=None, action=AccessLog.Action.READ, object_type="emr.patient", object_id=str(n))
    client.force_login(auditor)

    first = client.get(PAGE_URL, {"action": "read"})
    second = client.get(PAGE_URL, {"action": "read", "page": 2})

    assert len(first.context["entries"]) == 50
    assert "?action=read&amp;page=2" in first.content.decode()
    assert [entry.object_id for entry in second.context["entries"]] == ["0"]


def test_page_verifies_the_chain_on_demand(client, auditor, entries):
    client.force_login(auditor)

    intact = client.post(f"{PAGE_URL}?action=read")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE core_accesslog SET purpose = 'routine' WHERE id = %s", [entries[1].id])
        cursor.execute("SET LOCAL session_replication_role = origin")
    broken = client.post(PAGE_URL)

    assert intact.status_code == 200
    assert intact.context["verification"].ok
    assert "3 entries checked" in intact.content.decode()
    assert list(intact.context["entries"]) == [entries[0]]  # the filters stay applied
    assert not broken.context["verification"].ok
    assert f"The first broken link is entry #{entries[1].id}." in broken.content.decode()


def test_page_verify_is_forbidden_for_a_doctor(client, doctor):
    client.force_login(doctor)

    assert client.post(PAGE_URL).status_code == 403


def test_page_in_simplified_chinese_renders(client, auditor, entries):
    client.force_login(auditor)

    response = client.get(PAGE_URL, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 200
    assert response.context["LANGUAGE_CODE"] == "zh-hans"


# --- admin -------------------------------------------------------------------------------------


def test_admin_shows_the_log_read_only(client, settings, entries):
    settings.OTP_REQUIRED_FOR_ADMINS = False
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    model_admin = admin.site._registry[AccessLog]

    changelist = client.get(reverse("admin:core_accesslog_changelist"))
    detail = client.get(reverse("admin:core_accesslog_change", args=[entries[0].pk]))

    assert changelist.status_code == 200
    assert detail.status_code == 200
    assert client.get(reverse("admin:core_accesslog_add")).status_code == 403
    assert client.post(reverse("admin:core_accesslog_delete", args=[entries[0].pk]), {"post": "yes"}).status_code == 403
    assert AccessLog.objects.count() == 3
    request = changelist.wsgi_request
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entries[0])
    assert not model_admin.has_delete_permission(request, entries[0])
