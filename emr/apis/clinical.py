"""clinical API of the EMR (to be filled)."""

urlpatterns: list = []
