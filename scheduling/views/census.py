"""census pages (to be filled)."""

urlpatterns: list = []
