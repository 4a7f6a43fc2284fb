"""The navigation each role sees. Pages of later issues add their entries here."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from hospital.core import roles


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: tuple[str, ...]  # empty: every signed-in user
    staff_only: bool = False


NAV_ITEMS = (
    NavItem(_("Home"), "core:home", ()),
    NavItem(_("Access log"), "core:access_log", (roles.AUDITOR, roles.RECORDS_ARCHIVIST)),
    NavItem(_("API reference"), "api-docs", (roles.INTEGRATION_CLIENT, roles.ADMINISTRATOR)),
    NavItem(_("Administration"), "admin:index", (), staff_only=True),
)


def navigation_for(user) -> list[dict]:
    if not user.is_authenticated:
        return []
    items = []
    for item in NAV_ITEMS:
        if item.staff_only and not user.is_staff:
            continue
        if item.roles and not user.has_role(*item.roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": item.label, "url": url, "url_name": item.url_name})
    return items
