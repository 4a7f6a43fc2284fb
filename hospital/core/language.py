"""The pages' language follows the signed-in user's preference (User.preferred_language)."""

from django.conf import settings
from django.utils import translation


def language_cookie_set(response, language_code: str):
    """Switch this request to the language and make later requests use it (the cookie LocaleMiddleware reads)."""
    if not language_code or not translation.check_for_language(language_code):
        return response
    translation.activate(language_code)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language_code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
