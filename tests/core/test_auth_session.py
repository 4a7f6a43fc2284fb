"""Idle expiry of the signed-in session."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

HOME = reverse("core:home")


@pytest.fixture
def signed_in(client):
    UserFactory(username="nurse.li")
    response = client.post(reverse("core:login"), {"username": "nurse.li", "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client


def session_row(client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def test_idle_timeout_defaults_to_fifteen_minutes():
    assert settings.SESSION_IDLE_TIMEOUT_MINUTES == 15
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_a_session_idle_longer_than_the_timeout_is_rejected(signed_in):
    # given a session whose last activity is longer ago than the idle timeout
    Session.objects.filter(pk=session_row(signed_in).pk).update(expire_date=timezone.now() - timedelta(seconds=1))

    # when the user comes back
    response = signed_in.get(HOME)

    # then they must sign in again
    assert response.status_code == 302
    assert response.url == f"{reverse('core:login')}?next={HOME}"
    assert SESSION_KEY not in signed_in.session


def test_activity_pushes_the_idle_expiry_forward(signed_in):
    # given a session that has been idle for all but a minute of the timeout
    row = session_row(signed_in)
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now() + timedelta(minutes=1))

    # when the user opens a page
    assert signed_in.get(HOME).status_code == 200

    # then the session lives a full idle timeout from now again
    expire_date = Session.objects.get(pk=row.pk).expire_date
    assert expire_date > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


def test_api_activity_also_keeps_the_session_alive(signed_in):
    row = session_row(signed_in)
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now() + timedelta(minutes=1))

    assert signed_in.get("/api/v1/core/me/").status_code == 200

    assert Session.objects.get(pk=row.pk).expire_date > timezone.now() + timedelta(minutes=5)


def test_the_session_cookie_does_not_outlive_the_browser(signed_in):
    cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME]

    assert cookie["max-age"] == ""
    assert cookie["httponly"]
