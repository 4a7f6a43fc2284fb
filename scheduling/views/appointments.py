"""appointments pages (to be filled)."""

urlpatterns: list = []
