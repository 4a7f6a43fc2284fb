"""requests pages (to be filled)."""

urlpatterns: list = []
