"""REST API of beds and scheduling (/api/v1/scheduling/): each area's module declares its urlpatterns."""

from scheduling.apis import appointments, beds, census, requests

urlpatterns = [*beds.urlpatterns, *requests.urlpatterns, *census.urlpatterns, *appointments.urlpatterns]
