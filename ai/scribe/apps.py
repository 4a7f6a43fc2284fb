from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScribeConfig(AppConfig):
    """AI scribe: a recorded consultation becomes a structured draft note that the clinician reviews and signs."""

    name = "ai.scribe"
    label = "scribe"
    verbose_name = _("AI scribe")
