"""Pages of forecasting: the model and its backtest, a ward's chart, the bed plan, the bed board's strip."""

from django.urls import path

from ai.forecasting import views

app_name = "forecasting"

urlpatterns = [
    path("forecasting/", views.forecast_overview_page, name="overview"),
    path("forecasting/runs/", views.forecast_runs_fragment, name="runs"),
    path("forecasting/run/", views.forecast_run_submit, name="run"),
    path("forecasting/plan/", views.bed_plan_page, name="plan"),
    path("forecasting/wards/<uuid:external_id>/", views.ward_forecast_page, name="ward"),
    path("forecasting/board/", views.board_forecast_fragment, name="board"),
    path("forecasting/plotly.min.js", views.plotly_js, name="plotly_js"),
]
