"""Pages of beds and scheduling: each area's views module declares its urlpatterns."""

from scheduling.views import appointments, beds, census, requests

app_name = "scheduling"

urlpatterns = [*beds.urlpatterns, *requests.urlpatterns, *census.urlpatterns, *appointments.urlpatterns]
