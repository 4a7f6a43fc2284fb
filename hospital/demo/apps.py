from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo hospital loader: wiring-level, like urls and settings, so it may name every app."""

    name = "hospital.demo"
    label = "demo"
    verbose_name = "Demo hospital"
