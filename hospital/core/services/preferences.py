"""Writes of a user's own preferences."""

from django.db import transaction

from hospital.core.models import User


@transaction.atomic
def user_preferences_update(*, user: User, preferred_language: str) -> User:
    """Set the language the user's pages are shown in ("" follows the browser); raises ValidationError if unknown."""
    field = User._meta.get_field("preferred_language")
    user.preferred_language = field.clean(preferred_language, user)
    user.save(update_fields=["preferred_language"])
    return user
