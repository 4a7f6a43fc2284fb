"""Reset a user's two-step sign-in after a lost phone."""

import getpass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from hospital.core.services.authentication import otp_devices_reset


class Command(BaseCommand):
    help = (
        "Delete every second-factor device of USERNAME (lost or replaced phone). "
        "They set up a new authenticator app at their next sign-in. The reset is written to the security log."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc
        try:
            operator = getpass.getuser()
        except (KeyError, OSError):  # no login name in some containers
            operator = "unknown"
        count = otp_devices_reset(user=user, reset_by=f"manage.py otp_reset (OS user {operator})")
        self.stdout.write(
            f"Deleted {count} second-factor device(s) of {username}. "
            "They will be asked to set up an authenticator app at their next sign-in."
        )
