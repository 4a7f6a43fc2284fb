"""beds API (to be filled)."""

urlpatterns: list = []
