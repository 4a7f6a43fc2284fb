"""Pages of the alerts: the inbox, its actions and the menu badge."""

from django.urls import path

from ai import views

app_name = "ai"

urlpatterns = [
    path("alerts/", views.alerts_page, name="alerts"),
    path("alerts/badge/", views.alert_badge, name="alert_badge"),
    path("alerts/<uuid:external_id>/acknowledge/", views.alert_acknowledge_submit, name="alert_acknowledge"),
    path("alerts/<uuid:external_id>/assign/", views.alert_assign_submit, name="alert_assign"),
    path("alerts/<uuid:external_id>/resolve/", views.alert_resolve_submit, name="alert_resolve"),
]
