"""Writes about how an account signs in: TOTP second-factor devices and integration clients' API tokens."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from hospital.core.selectors.authentication import user_is_integration_client, user_pending_totp_device

security_log = logging.getLogger("hospital.security")


@transaction.atomic
def totp_device_start(*, user) -> TOTPDevice:
    """The unconfirmed authenticator the user is setting up; created with a fresh random secret if there is none.

    Reusing a pending device keeps the QR code stable when the setup page is reloaded.
    """
    device = user_pending_totp_device(user=user)
    if device is None:
        device = TOTPDevice(user=user, name=_("Authenticator app"), confirmed=False)
        device.full_clean()
        device.save()
    return device


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm a pending authenticator with a code it generated; it then replaces the user's other authenticators.

    Returns False (and counts a throttled failure on the device) when the code is wrong.
    """
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if device.confirmed or not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    replaced = TOTPDevice.objects.filter(user_id=device.user_id).exclude(pk=device.pk).delete()[0]
    security_log.info(
        "TOTP device %s confirmed for user %s (replaced %d)", device.persistent_id, device.user_id, replaced
    )
    return True


@transaction.atomic
def otp_devices_reset(*, user, reset_by: str) -> int:
    """Delete every second-factor device of the user (lost phone); they set up a new one at their next sign-in.

    Returns how many devices were deleted. The reset is written to the security log with who asked for it.
    """
    count = 0
    for device in devices_for_user(user, confirmed=None):
        device.delete()
        count += 1
    security_log.warning(
        "Second-factor devices of user %s (%s) reset by %s: %d deleted", user.pk, user.get_username(), reset_by, count
    )
    return count


def _require_integration_client(user) -> None:
    if not user_is_integration_client(user=user):
        raise ValidationError(
            _("Only integration clients use API tokens; %(username)s signs in on the web page."),
            code="not_integration_client",
            params={"username": user.get_username()},
        )


@transaction.atomic
def api_token_issue(*, user) -> str:
    """Give an integration client a new API token, revoking its previous one, and return the key.

    The key is shown to whoever issued it once; it is not logged.
    """
    _require_integration_client(user)
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    security_log.warning("API token issued for integration client %s (%s)", user.pk, user.get_username())
    return token.key


@transaction.atomic
def api_token_for_client(*, user) -> str:
    """The integration client's current API token key, created on first use (the password exchange endpoint)."""
    _require_integration_client(user)
    token, created = Token.objects.get_or_create(user=user)
    if created:
        security_log.warning("API token created for integration client %s (%s)", user.pk, user.get_username())
    return token.key
