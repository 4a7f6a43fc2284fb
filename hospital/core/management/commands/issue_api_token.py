"""Issue (or rotate) the API token of an integration client."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from hospital.core.services.authentication import api_token_issue


class Command(BaseCommand):
    help = (
        "Create a new API token for the integration client USERNAME, revoking its previous token, "
        "and print it once. Only accounts marked as integration clients (or in the integration_client role) get one."
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
            key = api_token_issue(user=user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        # The key alone on stdout so scripts can capture it; the explanation goes to stderr.
        self.stderr.write(
            f"New API token for {username} (any previous token no longer works). It is shown only this once; "
            'send it as the header "Authorization: Token <key>".'
        )
        self.stdout.write(key)
