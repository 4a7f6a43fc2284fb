"""appointments API (to be filled)."""

urlpatterns: list = []
