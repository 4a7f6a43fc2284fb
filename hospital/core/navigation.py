"""The navigation each role sees. Pages of later issues add their entries here.

An entry whose URL name does not resolve (its app has no page yet) is skipped, so adding a page is
one NAV_ITEMS line; the home page turns the same entries into its cards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from hospital.core import roles

if TYPE_CHECKING:
    # django-stubs-ext is a development dependency; the name is only needed by the type checker.
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class NavItem:
    label: StrOrPromise
    url_name: str
    roles: tuple[str, ...]  # empty: every signed-in user
    staff_only: bool = False
    icon: str = "page"  # a name known to templates/includes/icon.html
    description: StrOrPromise = ""  # one line for the home page card
    # A URL name that answers with a small count for the menu (e.g. open alerts); loaded by htmx after the
    # page, so that rendering the menu never costs a query.
    badge_url_name: str = ""


class NavEntry(TypedDict):
    """One entry of `navigation_for`, as the templates read it."""

    label: StrOrPromise
    url: str
    url_name: str
    icon: str
    description: StrOrPromise
    active: bool
    badge_url: str


NAV_ITEMS = (
    NavItem(_("Home"), "core:home", (), icon="home", description=_("Your dashboard and the system status.")),
    NavItem(
        _("Patients"),
        "emr:patient_search",
        (roles.DOCTOR, roles.NURSE, roles.RECORDS_ARCHIVIST),
        icon="user",
        description=_("Find a patient by name, MRN, ID number or phone; register a new one."),
    ),
    NavItem(
        _("Note search"),
        "emr:note_search",
        (roles.DOCTOR, roles.NURSE),
        icon="log",
        description=_("Full-text search across the notes of your patients."),
    ),
    NavItem(
        _("Alerts"),
        "ai:alerts",
        (roles.DOCTOR, roles.NURSE, roles.BED_MANAGER),
        icon="pulse",
        description=_("Early warning scores and critical results of your wards and patients, to acknowledge."),
        badge_url_name="ai:alert_badge",
    ),
    NavItem(
        _("Scribe"),
        "scribe:list",
        (roles.DOCTOR,),
        icon="log",
        description=_("Recorded consultations turned into suggested note fields to review and sign."),
    ),
    NavItem(
        _("Bed board"),
        "scheduling:bed_board",
        (roles.BED_MANAGER, roles.NURSE, roles.DOCTOR),
        icon="page",
        description=_("Every ward's beds live, the bed queue and one-click placement."),
    ),
    NavItem(
        _("Appointments"),
        "scheduling:appointment_book",
        (roles.DOCTOR, roles.NURSE),
        icon="user",
        description=_("Book, cancel and reschedule outpatient appointments in clinicians' free slots."),
    ),
    NavItem(
        _("Outpatient queue"),
        "scheduling:appointment_queue",
        (roles.DOCTOR, roles.NURSE),
        icon="pulse",
        description=_("Today's clinic: who is booked, checked in, called and seen."),
    ),
    NavItem(
        _("Census"),
        "scheduling:census",
        (roles.BED_MANAGER, roles.ADMINISTRATOR, roles.FINANCE_OFFICER),
        icon="pulse",
        description=_("Occupancy, length of stay, bed turnover and turnaround per ward, with charts."),
    ),
    NavItem(
        _("Bed forecasts"),
        "forecasting:overview",
        (roles.BED_MANAGER, roles.ADMINISTRATOR),
        icon="pulse",
        description=_("The model in use and why, its backtest, each ward's forecast and the nightly runs."),
    ),
    NavItem(
        _("Bed plan"),
        "forecasting:plan",
        (roles.BED_MANAGER, roles.ADMINISTRATOR),
        icon="page",
        description=_("Where the expected overflow should go over the next week, each step explained."),
    ),
    NavItem(
        _("Access log"),
        "core:access_log",
        (roles.AUDITOR, roles.ADMINISTRATOR),
        icon="log",
        description=_("Who opened which patient record, when and why."),
    ),
    NavItem(
        _("API reference"),
        "api-docs",
        (roles.INTEGRATION_CLIENT, roles.ADMINISTRATOR),
        icon="code",
        description=_("The REST interface for HIS, LIS and PACS integrations."),
    ),
    NavItem(
        _("Administration"),
        "admin:index",
        (),
        staff_only=True,
        icon="settings",
        description=_("Users, roles, second factors and reference data."),
    ),
)


def _is_active(item_url_name: str, url: str, view_name: str | None, path: str | None) -> bool:
    if view_name and view_name == item_url_name:
        return True
    # Pages below a section (an admin change form under the admin index) keep the section lit;
    # the root URL would match every path, so it only counts on an exact view match.
    return bool(path and url != "/" and path.startswith(url))


def navigation_for(user, *, view_name: str | None = None, path: str | None = None) -> list[NavEntry]:
    """The entries `user` may open, in NAV_ITEMS order, each with `active` set for the current page.

    `view_name` is request.resolver_match.view_name and `path` is request.path; both are optional.
    """
    if not user.is_authenticated:
        return []
    items: list[NavEntry] = []
    for item in NAV_ITEMS:
        if item.staff_only and not user.is_staff:
            continue
        if item.roles and not user.has_role(*item.roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        badge_url = ""
        if item.badge_url_name:
            try:
                badge_url = reverse(item.badge_url_name)
            except NoReverseMatch:
                badge_url = ""
        items.append(
            {
                "label": item.label,
                "url": url,
                "url_name": item.url_name,
                "icon": item.icon,
                "description": item.description,
                "active": _is_active(item.url_name, url, view_name, path),
                "badge_url": badge_url,
            }
        )
    # One entry is the current page: an exact view match wins, else the longest matching URL prefix
    # (/patients/notes/search/ is "Note search", not also "Patients").
    active = [entry for entry in items if entry["active"]]
    if len(active) > 1:
        exact = [entry for entry in active if entry["url_name"] == view_name]
        keep = exact[0] if exact else max(active, key=lambda entry: len(entry["url"]))
        for entry in active:
            entry["active"] = entry is keep
    return items


def role_labels_for(user) -> list[StrOrPromise]:
    """Translated labels of the user's roles, in the order roles.ROLE_LABELS lists them."""
    if not user.is_authenticated:
        return []
    return [label for name, label in roles.ROLE_LABELS.items() if name in user.role_names]
