"""API tokens of integration clients: issuing, using, the password exchange and its lockout."""

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/core/me/"
TOKEN_URL = "/api/v1/core/auth/token/"


@pytest.fixture
def his():
    return UserFactory(username="his", is_integration_client=True)


def issue(username, capsys) -> str:
    call_command("issue_api_token", username)
    return capsys.readouterr().out.strip()


def test_issue_api_token_prints_a_token_that_authenticates(client, his, capsys):
    key = issue("his", capsys)

    response = client.get(ME, HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 200
    assert response.json()["username"] == "his"
    assert response.json()["is_integration_client"] is True


def test_issue_api_token_works_for_the_integration_client_role(client, capsys):
    UserFactory(username="lis", roles=["integration_client"])

    key = issue("lis", capsys)

    assert client.get(ME, HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_issuing_again_rotates_the_token(client, his, capsys):
    old = issue("his", capsys)
    new = issue("his", capsys)

    assert new != old
    assert client.get(ME, HTTP_AUTHORIZATION=f"Token {old}").status_code in (401, 403)
    assert client.get(ME, HTTP_AUTHORIZATION=f"Token {new}").status_code == 200


def test_people_get_no_token(capsys):
    UserFactory(username="dr.wang", roles=["doctor"])

    with pytest.raises(CommandError, match="Only integration clients use API tokens"):
        call_command("issue_api_token", "dr.wang")
    assert not Token.objects.exists()


def test_unknown_user_gets_no_token():
    with pytest.raises(CommandError, match="No user named"):
        call_command("issue_api_token", "nobody")


def test_token_requests_create_no_session(client, his, capsys):
    key = issue("his", capsys)
    sessions_before = Session.objects.count()

    api = client.get(ME, HTTP_AUTHORIZATION=f"Token {key}")
    page = client.get(reverse("core:home"), HTTP_AUTHORIZATION=f"Token {key}")

    assert api.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in api.cookies
    # a token is for the API only: pages treat the client as anonymous
    assert page.status_code == 302
    assert page.url.startswith(reverse("core:login"))
    assert settings.SESSION_COOKIE_NAME not in page.cookies
    assert Session.objects.count() == sessions_before


def test_bad_token_is_refused_in_the_error_format(client):
    response = client.get(ME, HTTP_AUTHORIZATION="Token not-a-real-token")

    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "authentication_failed"


def test_password_exchange_returns_the_clients_token(api_client, his, capsys):
    key = issue("his", capsys)

    response = api_client.post(TOKEN_URL, {"username": "his", "password": TEST_PASSWORD}, format="json")

    assert response.status_code == 200
    assert response.json() == {"token": key}
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_password_exchange_refuses_wrong_password(api_client, his):
    response = api_client.post(TOKEN_URL, {"username": "his", "password": "wrong"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert not Token.objects.exists()


def test_password_exchange_refuses_people(api_client):
    UserFactory(username="dr.wang", roles=["doctor"])

    response = api_client.post(TOKEN_URL, {"username": "dr.wang", "password": TEST_PASSWORD}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not Token.objects.exists()


def test_password_exchange_locks_after_repeated_failures(api_client, his):
    # given failures up to the limit
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = api_client.post(TOKEN_URL, {"username": "his", "password": "wrong"}, format="json")
        assert response.status_code == 400

    # when the limit is reached
    response = api_client.post(TOKEN_URL, {"username": "his", "password": "wrong"}, format="json")

    # then the API says the account is locked, in its own error format, and for how long
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "locked_out"
    assert f"locked for {minutes} minutes" in error["message"]
    assert response["Retry-After"] == str(minutes * 60)

    # and the right password is refused too, on the API and on the sign-in page
    response = api_client.post(TOKEN_URL, {"username": "his", "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 429
    assert not Token.objects.exists()


def test_password_exchange_and_sign_in_page_share_one_failure_count(client, api_client):
    UserFactory(username="dr.wang")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        api_client.post(TOKEN_URL, {"username": "dr.wang", "password": "wrong"}, format="json")

    response = client.post(reverse("core:login"), {"username": "dr.wang", "password": "wrong"})

    assert response.status_code == 429
    assert "Account locked" in response.content.decode()
