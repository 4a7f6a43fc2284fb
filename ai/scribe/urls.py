"""The scribe's pages, mounted at /scribe/."""

from django.urls import path

from ai.scribe import views

app_name = "scribe"

urlpatterns = [
    path("scribe/", views.scribe_list, name="list"),
    path("scribe/new/", views.scribe_new, name="new"),
    path("scribe/<uuid:external_id>/", views.scribe_job, name="job"),
    path("scribe/<uuid:external_id>/status/", views.scribe_job_status, name="job_status"),
    path(
        "scribe/<uuid:external_id>/suggestions/<uuid:suggestion_id>/",
        views.scribe_suggestion_decide,
        name="suggestion_decide",
    ),
    path("scribe/<uuid:external_id>/fill/", views.scribe_note_fill, name="note_fill"),
]
