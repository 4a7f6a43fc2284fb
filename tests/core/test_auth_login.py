"""Sign-in page, lockout after repeated failures, sign-out, and the admin's sign-in."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("core:login")


def sign_in(client, username, password=TEST_PASSWORD, **extra):
    return client.post(LOGIN_URL, {"username": username, "password": password, **extra})


def test_correct_password_signs_in_and_opens_home(client):
    user = UserFactory(username="nurse.li")

    response = sign_in(client, "nurse.li")

    assert response.status_code == 302
    assert response.url == reverse("core:home")
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.get(reverse("core:home")).status_code == 200


def test_sign_in_follows_a_safe_next_but_not_another_site(client):
    UserFactory(username="nurse.li")

    assert sign_in(client, "nurse.li", next="/status/").url == "/status/"
    client.logout()
    assert sign_in(client, "nurse.li", next="https://evil.example/").url == reverse("core:home")


def test_sign_in_form_carries_next_through_the_post(client):
    body = client.get(LOGIN_URL, {"next": "/admin/"}).content.decode()

    assert '<input type="hidden" name="next" value="/admin/">' in body


def test_wrong_password_shows_clear_error_and_attempts_left(client):
    UserFactory(username="nurse.li")

    response = sign_in(client, "nurse.li", password="wrong-password")

    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    body = response.content.decode()
    assert "Please enter a correct username and password" in body
    assert f"{settings.AXES_FAILURE_LIMIT - 1} attempts left before the account is locked" in body


def test_sign_in_page_states_the_idle_timeout(client):
    body = client.get(LOGIN_URL).content.decode()

    assert f"signed out after {settings.SESSION_IDLE_TIMEOUT_MINUTES} minutes without activity" in body


def test_repeated_bad_passwords_lock_the_account_with_a_clear_message(client):
    # given an account that got the password wrong up to the limit
    UserFactory(username="dr.wang")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "dr.wang", password="wrong-password").status_code == 200

    # when the last allowed failure happens
    response = sign_in(client, "dr.wang", password="wrong-password")

    # then the locked-out page says so, for how long, and whom to contact
    assert response.status_code == settings.AXES_HTTP_RESPONSE_CODE == 429
    body = response.content.decode()
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert "Account locked" in body
    assert f"entered wrongly {settings.AXES_FAILURE_LIMIT} times" in body
    assert f"try again in {minutes} minutes" in body
    assert "contact an administrator" in body
    assert response["Retry-After"] == str(minutes * 60)

    # and even the right password does not get in while locked
    response = sign_in(client, "dr.wang")
    assert response.status_code == 429
    assert "Account locked" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_lockout_is_per_account(client):
    UserFactory(username="dr.wang")
    UserFactory(username="dr.zhao")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "dr.wang", password="wrong-password")

    # A shared ward PC: a colleague on the same machine still signs in.
    assert sign_in(client, "dr.zhao").status_code == 302


def test_lockout_ends_after_the_cool_off(client):
    # given a locked account
    UserFactory(username="dr.wang")
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "dr.wang", password="wrong-password")
    assert sign_in(client, "dr.wang").status_code == 429

    # when the cool-off time has passed since the last failure
    AccessAttempt.objects.filter(username="dr.wang").update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )

    # then the right password signs in again
    response = sign_in(client, "dr.wang")
    assert response.status_code == 302
    assert SESSION_KEY in client.session


def test_success_before_the_limit_resets_the_failure_count(client):
    UserFactory(username="dr.wang")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "dr.wang", password="wrong-password")
    assert sign_in(client, "dr.wang").status_code == 302
    client.post(reverse("core:logout"))

    assert sign_in(client, "dr.wang", password="wrong-password").status_code == 200


def test_integration_client_cannot_sign_in_to_pages(client):
    UserFactory(username="his", is_integration_client=True)
    UserFactory(username="lis", roles=["integration_client"])

    for username in ("his", "lis"):
        response = sign_in(client, username)
        assert response.status_code == 200
        assert "can only use the API with a token" in response.content.decode()
        assert SESSION_KEY not in client.session


def test_preferred_language_is_activated_at_sign_in(client):
    UserFactory(username="nurse.li", preferred_language="zh-hans")

    response = sign_in(client, "nurse.li")

    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    home = client.get(reverse("core:home"))
    assert home.headers["Content-Language"] == "zh-hans"


def test_no_preferred_language_leaves_the_language_alone(client):
    UserFactory(username="nurse.li", preferred_language="")

    response = sign_in(client, "nurse.li")

    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_sign_out_needs_post_and_returns_to_sign_in(client):
    UserFactory(username="nurse.li")
    sign_in(client, "nurse.li")

    assert client.get(reverse("core:logout")).status_code == 405
    assert SESSION_KEY in client.session

    response = client.post(reverse("core:logout"), follow=True)

    assert response.redirect_chain[-1][0] == LOGIN_URL
    assert SESSION_KEY not in client.session
    assert "You have signed out." in response.content.decode()


def test_admin_login_sends_to_the_platform_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    response = client.get(response.url)

    assert response.status_code == 302
    assert response.url == f"{LOGIN_URL}?next=/admin/"


def test_admin_lockout_applies_through_the_platform_sign_in(client):
    UserFactory(username="admin.chen", is_staff=True)
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "admin.chen", password="wrong-password", next="/admin/")

    response = sign_in(client, "admin.chen", next="/admin/")

    assert response.status_code == 429
    # The admin's own login form is gone: it cannot be used to get around the lockout.
    assert client.post("/admin/login/", {"username": "admin.chen", "password": TEST_PASSWORD}).status_code == 302
    assert SESSION_KEY not in client.session


def test_signed_in_non_staff_is_refused_by_the_admin(client):
    UserFactory(username="nurse.li")
    sign_in(client, "nurse.li")

    response = client.get("/admin/", follow=True)

    assert response.status_code == 403


def test_lockout_message_in_simplified_chinese(client):
    UserFactory(username="dr.wang")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(client, "dr.wang", password="wrong-password")

    body = response.content.decode()
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert response.status_code == 429
    assert "账户已锁定" in body
    assert f"{minutes} 分钟后重试" in body
    assert "联系管理员" in body
