"""census API (to be filled)."""

urlpatterns: list = []
