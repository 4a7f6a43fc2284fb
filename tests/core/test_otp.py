"""The TOTP second factor: set-up, verification, and the admin that requires it."""

import logging
from base64 import b32encode

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

VERIFY_URL = reverse("core:otp_verify")
SETUP_URL = reverse("core:otp_setup")


def code_for(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift):06d}"


def wrong_code_for(device) -> str:
    # Not the code of this step nor of its neighbours (the device accepts one step either side).
    accepted = {
        totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift + offset)
        for offset in (-1, 0, 1)
    }
    return next(code for code in ("000000", "111111", "222222", "333333") if int(code) not in accepted)


def sign_in(client, username, next_url=""):
    data = {"username": username, "password": TEST_PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("core:login"), data)


@pytest.fixture
def staff():
    return UserFactory(username="admin.chen", is_staff=True)


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


@pytest.mark.parametrize("user_fixture", ["staff", "superuser"])
def test_admin_without_a_second_factor_is_sent_to_verify_then_setup(client, request, user_fixture):
    user = request.getfixturevalue(user_fixture)
    client.force_login(user)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response.url == f"{VERIFY_URL}?next=/admin/"
    response = client.get(response.url)
    assert response.status_code == 302
    assert response.url == f"{SETUP_URL}?next=%2Fadmin%2F"


def test_staff_sign_in_without_a_device_goes_to_setup(client, staff):
    response = sign_in(client, "admin.chen", next_url="/admin/")

    assert response.status_code == 302
    assert response.url == f"{SETUP_URL}?next=%2Fadmin%2F"


def test_setup_shows_an_inline_qr_and_the_secret_and_confirms_with_a_code(client, staff):
    # given a staff member on the set-up page
    client.force_login(staff)
    response = client.get(SETUP_URL, {"next": "/admin/"})
    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=staff)
    assert device.confirmed is False
    body = response.content.decode()
    assert 'src="data:image/svg+xml' in body  # rendered here, nothing fetched from the internet
    assert response.context["secret"].replace(" ", "") == b32encode(device.bin_key).decode()
    # reloading keeps the same secret so a half-done scan is not wasted
    client.get(SETUP_URL)
    assert TOTPDevice.objects.filter(user=staff).count() == 1

    # when they enter the code the app shows
    response = client.post(SETUP_URL, {"token": code_for(device), "next": "/admin/"})

    # then the device is confirmed, the session verified, and the admin opens
    assert response.status_code == 302
    assert response.url == "/admin/"
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/admin/").status_code == 200


def test_setup_rejects_a_wrong_code(client, staff):
    client.force_login(staff)
    client.get(SETUP_URL)
    device = TOTPDevice.objects.get(user=staff)

    response = client.post(SETUP_URL, {"token": wrong_code_for(device)})

    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False
    assert client.get("/admin/").status_code == 302


def test_setup_rejects_a_code_that_is_not_six_digits(client, staff):
    client.force_login(staff)
    client.get(SETUP_URL)

    response = client.post(SETUP_URL, {"token": "12ab56"})

    assert "Enter the 6 digits your authenticator app shows." in response.content.decode()


@pytest.mark.parametrize("user_fixture", ["staff", "superuser"])
def test_admin_opens_after_verifying_a_code(client, request, user_fixture):
    # given an administrator with an authenticator, signed in with the password
    user = request.getfixturevalue(user_fixture)
    device = confirmed_device(user)
    response = sign_in(client, user.username, next_url="/admin/")
    assert response.url == f"{VERIFY_URL}?next=%2Fadmin%2F"
    assert client.get("/admin/").status_code == 302

    # when they enter the current code
    response = client.post(VERIFY_URL, {"token": code_for(device), "next": "/admin/"})

    # then the admin opens
    assert response.status_code == 302
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_verify_accepts_the_code_with_a_space(client, staff):
    device = confirmed_device(staff)
    client.force_login(staff)
    code = code_for(device)

    response = client.post(VERIFY_URL, {"token": f"{code[:3]} {code[3:]}", "next": "/admin/"})

    assert response.url == "/admin/"


def test_verify_rejects_a_wrong_code_and_then_throttles(client, staff):
    device = confirmed_device(staff)
    client.force_login(staff)

    response = client.post(VERIFY_URL, {"token": wrong_code_for(device)})
    assert "That code is not right" in response.content.decode()

    # Right after a failure even the right code waits: guessing 10^6 codes is not possible.
    response = client.post(VERIFY_URL, {"token": code_for(device)})
    assert "Too many wrong codes" in response.content.decode()
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert client.get("/admin/").status_code == 302


def test_verify_does_not_redirect_to_another_site(client, staff):
    device = confirmed_device(staff)
    client.force_login(staff)

    response = client.post(VERIFY_URL, {"token": code_for(device), "next": "https://evil.example/"})

    assert response.url == reverse("core:home")


def test_password_alone_cannot_replace_an_existing_authenticator(client, staff):
    confirmed_device(staff)
    client.force_login(staff)

    response = client.get(SETUP_URL)

    assert response.status_code == 302
    assert response.url.startswith(VERIFY_URL)
    assert TOTPDevice.objects.filter(user=staff, confirmed=False).count() == 0


def test_a_verified_user_can_replace_the_authenticator(client, staff):
    old = confirmed_device(staff)
    client.force_login(staff)
    client.post(VERIFY_URL, {"token": code_for(old)})

    client.get(SETUP_URL)
    new = TOTPDevice.objects.get(user=staff, confirmed=False)
    response = client.post(SETUP_URL, {"token": code_for(new)})

    assert response.status_code == 302
    assert list(TOTPDevice.objects.filter(user=staff)) == [new]


def test_non_staff_sign_in_does_not_ask_for_a_code(client):
    UserFactory(username="nurse.li")

    assert sign_in(client, "nurse.li").url == reverse("core:home")


def test_sign_out_ends_the_verified_session(client, staff):
    device = confirmed_device(staff)
    client.force_login(staff)
    client.post(VERIFY_URL, {"token": code_for(device)})
    assert client.get("/admin/").status_code == 200

    client.post(reverse("core:logout"))
    client.force_login(staff)

    assert client.get("/admin/").status_code == 302


def test_otp_reset_deletes_the_devices_and_logs_it(client, staff, caplog, capsys):
    device = confirmed_device(staff)
    StaticDevice.objects.create(user=staff, name="backup", confirmed=True)
    client.force_login(staff)
    client.post(VERIFY_URL, {"token": code_for(device)})

    with caplog.at_level(logging.WARNING, logger="hospital.security"):
        call_command("otp_reset", "admin.chen")

    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert not StaticDevice.objects.filter(user=staff).exists()
    assert "Deleted 2 second-factor device(s) of admin.chen" in capsys.readouterr().out
    assert any("admin.chen" in record.getMessage() and "reset" in record.getMessage() for record in caplog.records)
    # a session verified with the lost phone no longer opens the admin
    assert client.get("/admin/").status_code == 302


def test_otp_reset_of_an_unknown_user_fails():
    with pytest.raises(CommandError, match="No user named"):
        call_command("otp_reset", "nobody")
