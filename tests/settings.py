"""Settings for the test suite: the real settings plus a test-only app."""

from hospital.settings import *  # noqa: F403
from hospital.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast hashing; security is not under test here
