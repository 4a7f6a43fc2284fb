"""Navigation by role, active-page detection, the home dashboard and its status card."""

import pytest
from django.urls import reverse

from hospital.core import navigation
from hospital.core.navigation import NavItem, navigation_for, role_labels_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _names(items):
    return [item["url_name"] for item in items]


def test_clinicians_see_patients_and_note_search_but_not_the_access_log():
    doctor = UserFactory(roles=["doctor"])
    nurse = UserFactory(roles=["nurse"])
    archivist = UserFactory(roles=["records_archivist"])

    clinic = ["scheduling:bed_board", "scheduling:appointment_book", "scheduling:appointment_queue"]
    search = ["core:home", "emr:patient_search", "emr:note_search", "ai:alerts"]
    assert _names(navigation_for(doctor)) == [*search, "scribe:list", *clinic]
    assert _names(navigation_for(nurse)) == [*search, *clinic]
    # Archivists find records but do not search clinical text
    assert _names(navigation_for(archivist)) == ["core:home", "emr:patient_search"]


def test_auditor_sees_the_access_log_and_staff_see_administration():
    auditor = UserFactory(roles=["auditor"])
    admin = UserFactory(roles=["administrator"], is_staff=True)

    assert _names(navigation_for(auditor)) == ["core:home", "core:access_log"]
    assert _names(navigation_for(admin)) == [
        "core:home",
        "scheduling:census",
        "forecasting:overview",
        "forecasting:plan",
        "core:access_log",
        "api-docs",
        "admin:index",
    ]
    archivist = UserFactory(roles=["records_archivist"])
    assert "core:access_log" not in _names(navigation_for(archivist))


def test_bed_managers_and_finance_officers_see_the_census():
    bed_manager = UserFactory(roles=["bed_manager"])
    finance = UserFactory(roles=["finance_officer"])

    assert _names(navigation_for(bed_manager)) == [
        "core:home",
        "ai:alerts",
        "scheduling:bed_board",
        "scheduling:census",
        "forecasting:overview",
        "forecasting:plan",
    ]
    assert _names(navigation_for(finance)) == ["core:home", "scheduling:census"]


def test_anonymous_user_gets_no_navigation(rf):
    from django.contrib.auth.models import AnonymousUser

    assert navigation_for(AnonymousUser()) == []
    assert role_labels_for(AnonymousUser()) == []


def test_entry_whose_page_does_not_exist_yet_is_skipped(monkeypatch):
    doctor = UserFactory(roles=["doctor"])
    monkeypatch.setattr(
        navigation,
        "NAV_ITEMS",
        (*navigation.NAV_ITEMS, NavItem("Bed board", "scheduling:bed_board_not_built", ())),
    )

    assert "scheduling:bed_board_not_built" not in _names(navigation_for(doctor))


def test_current_page_is_active_by_view_name_and_by_section_path():
    admin = UserFactory(roles=["administrator", "auditor"], is_staff=True)

    on_log = {i["url_name"]: i["active"] for i in navigation_for(admin, view_name="core:access_log")}
    in_admin = navigation_for(admin, view_name="admin:core_user_changelist", path="/admin/core/user/")
    under_admin = {i["url_name"]: i["active"] for i in in_admin}
    on_home = {i["url_name"]: i["active"] for i in navigation_for(admin, view_name="core:home", path="/")}

    assert on_log == {
        "core:home": False,
        "scheduling:census": False,
        "forecasting:overview": False,
        "forecasting:plan": False,
        "core:access_log": True,
        "api-docs": False,
        "admin:index": False,
    }
    assert under_admin["admin:index"] is True and under_admin["core:home"] is False
    assert on_home == {
        "core:home": True,
        "scheduling:census": False,
        "forecasting:overview": False,
        "forecasting:plan": False,
        "core:access_log": False,
        "api-docs": False,
        "admin:index": False,
    }


def test_role_labels_are_translated(settings):
    from django.utils import translation

    nurse = UserFactory(roles=["nurse", "doctor"])

    with translation.override("zh-hans"):
        labels = [str(label) for label in role_labels_for(nurse)]

    assert labels == ["医生", "护士"]


def test_home_requires_sign_in(client):
    response = client.get(reverse("core:home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:login"))


def test_home_shows_name_roles_and_cards_for_what_the_role_can_open(client):
    auditor = UserFactory(username="audit.wang", display_name="Wang Fang", roles=["auditor"])
    client.force_login(auditor)

    html = client.get(reverse("core:home")).content.decode()

    assert "Welcome, Wang Fang" in html
    assert '<span class="badge">Auditor</span>' in html
    assert f'class="card card-link" href="{reverse("core:access_log")}"' in html
    assert 'card card-link" href="/admin/' not in html
    assert f'hx-get="{reverse("core:system_status")}"' in html
    assert 'hx-trigger="load, every 30s"' in html
    # htmx comes from django-htmx's static files and sends the CSRF token on every request
    assert "django_htmx/htmx-2.min.js" in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    # the current page is marked for assistive technology
    assert 'class="active" aria-current="page"' in html


def test_home_page_query_count_does_not_grow_with_navigation(client, django_assert_max_num_queries):
    client.force_login(UserFactory(roles=["auditor", "administrator", "records_archivist"], is_staff=True))

    # session, user, role names (once, cached), session save in a savepoint
    with django_assert_max_num_queries(6):
        response = client.get(reverse("core:home"))

    assert response.status_code == 200


def test_home_is_in_chinese_when_the_language_is_chosen(client):
    client.force_login(UserFactory(display_name="Li Wei", roles=["doctor"]))

    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("core:home")})
    html = client.get(response["Location"]).content.decode()

    assert '<html lang="zh-hans"' in html
    assert "首页" in html and "医生" in html and "退出登录" in html


def test_language_switch_works_before_sign_in(client):
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("core:login")})
    assert response["Location"] == reverse("core:login")

    html = client.get(reverse("core:login")).content.decode()

    assert '<html lang="zh-hans"' in html
    assert 'value="zh-hans" lang="zh-hans" class="current" aria-pressed="true"' in html
    assert f'name="next" value="{reverse("core:login")}"' in html


def test_status_fragment_shows_each_check_as_a_badge(client):
    client.force_login(UserFactory(roles=["doctor"]))

    response = client.get(reverse("core:system_status"), HTTP_HX_REQUEST="true")
    html = response.content.decode()

    assert response.status_code == 200
    assert "<html" not in html
    for name in ("database", "redis", "worker", "migrations"):
        assert f'data-check="{name}"' in html
    # the test run has a database but no Celery worker on its queue
    database = html.split('data-check="database"')[1].split("</li>")[0]
    worker = html.split('data-check="worker"')[1].split("</li>")[0]
    assert "badge-ok" in database
    assert "badge-danger" in worker
    assert 'data-status="down"' in html


def test_status_failure_details_are_for_administrators_only(client):
    client.force_login(UserFactory(roles=["doctor"]))
    as_doctor = client.get(reverse("core:system_status"), HTTP_HX_REQUEST="true").content.decode()
    client.force_login(UserFactory(roles=["administrator"], is_staff=True))
    as_admin = client.get(reverse("core:system_status"), HTTP_HX_REQUEST="true").content.decode()

    assert "no Celery worker answered" not in as_doctor
    assert "no Celery worker answered" in as_admin


def test_status_opened_directly_is_a_whole_page(client):
    client.force_login(UserFactory(roles=["nurse"]))

    html = client.get(reverse("core:system_status")).content.decode()

    assert "<html" in html and 'data-check="database"' in html


def test_only_one_entry_is_active_when_urls_nest():
    nurse = UserFactory(roles=["nurse"])

    queue = navigation_for(
        nurse, view_name="scheduling:appointment_queue", path=reverse("scheduling:appointment_queue")
    )
    search = navigation_for(nurse, view_name="emr:note_search", path=reverse("emr:note_search"))

    assert [item["url_name"] for item in queue if item["active"]] == ["scheduling:appointment_queue"]
    assert [item["url_name"] for item in search if item["active"]] == ["emr:note_search"]
