"""beds pages (to be filled)."""

urlpatterns: list = []
