from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """Models that exist only in the test database, to exercise cross-cutting machinery."""

    name = "tests.testapp"
    label = "testapp"
