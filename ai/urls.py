"""Pages of the ai app."""

from django.urls import path

from ai import views

app_name = "ai"

urlpatterns = [
    path("alerts/", views.alerts_page, name="alerts"),
    path("alerts/<uuid:external_id>/acknowledge/", views.alert_acknowledge_submit, name="alert_acknowledge"),
]
