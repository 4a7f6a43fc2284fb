"""Reads about how an account signs in: its second-factor devices and whether it may hold an API token."""

from django.conf import settings
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from hospital.core import roles


def user_otp_devices(*, user) -> list:
    """The user's confirmed second-factor devices (authenticator apps and backup codes), oldest first."""
    return list(devices_for_user(user, confirmed=True))


def user_has_otp_device(*, user) -> bool:
    """Whether the user has at least one confirmed second-factor device."""
    return bool(user.is_authenticated) and any(True for _device in devices_for_user(user, confirmed=True))


def user_pending_totp_device(*, user) -> TOTPDevice | None:
    """The authenticator the user started to set up but has not confirmed with a code yet."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def user_otp_required(*, user) -> bool:
    """Whether the user must pass a second factor: administrators (staff and superusers) do."""
    return bool(settings.OTP_REQUIRED_FOR_ADMINS and (user.is_staff or user.is_superuser))


def user_is_integration_client(*, user) -> bool:
    """Whether the account is a system (HIS, LIS, PACS) that uses the API with a token instead of a session."""
    return bool(user.is_integration_client) or roles.INTEGRATION_CLIENT in user.role_names
