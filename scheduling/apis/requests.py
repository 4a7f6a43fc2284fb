"""requests API (to be filled)."""

urlpatterns: list = []
