from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForecastingConfig(AppConfig):
    """Bed-demand forecasting: training data, GRU/LSTM and baselines, the model registry, the bed plan."""

    name = "ai.forecasting"
    label = "forecasting"
    verbose_name = _("Forecasting")
