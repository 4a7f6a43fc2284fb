"""Sign-in pages in a real browser: lockout, and an administrator setting up and using the second factor."""

from base64 import b32encode
from pathlib import Path

import pytest
from django.conf import settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _submit_password(page, username: str, password: str) -> None:
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift):06d}"


def test_repeated_bad_passwords_show_the_locked_page(page):
    UserFactory(username="dr.wang")
    page.goto("/accounts/login/")

    _submit_password(page, "dr.wang", "wrong-password")
    expect(page.get_by_test_id("login-errors")).to_contain_text("Please enter a correct username and password")
    expect(page.get_by_test_id("attempts-left")).to_have_text(
        f"{settings.AXES_FAILURE_LIMIT - 1} attempts left before the account is locked."
    )
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        _submit_password(page, "dr.wang", "wrong-password")

    expect(page.get_by_role("heading", level=1)).to_have_text("Account locked")
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    expect(page.get_by_test_id("lockout-duration")).to_contain_text(f"try again in {minutes} minutes")
    expect(page.get_by_test_id("locked-out")).to_contain_text("contact an administrator")
    _shot(page, "locked-out-en-laptop")

    page.get_by_role("link", name="Back to sign-in").click()
    _submit_password(page, "dr.wang", TEST_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Account locked")


def test_administrator_sets_up_the_authenticator_and_opens_the_admin(page):
    # given an administrator without a second factor
    staff = UserFactory(username="admin.chen", is_staff=True, is_superuser=True)

    # when they open the admin, they are sent to the platform's sign-in page, then to the set-up page
    page.goto("/admin/")
    expect(page).to_have_url("/accounts/login/?next=/admin/")
    _submit_password(page, "admin.chen", TEST_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step sign-in")

    # then the QR code is drawn from the page itself and the key is shown for typing by hand
    qr = page.get_by_test_id("otp-qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    assert page.get_by_test_id("otp-secret").inner_text().replace(" ", "") == b32encode(device.bin_key).decode()
    _shot(page, "otp-setup-en-laptop")

    # when they enter the code the app shows
    page.get_by_label("6-digit code").fill(_code(device))
    page.get_by_role("button", name="Confirm").click()

    # then the admin opens
    expect(page).to_have_url("/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    device.refresh_from_db()
    assert device.confirmed
