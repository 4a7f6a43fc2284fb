"""REST API of the alert inbox, included under /api/v1/alerts/."""

from ai.apis import urlpatterns

__all__ = ["urlpatterns"]
