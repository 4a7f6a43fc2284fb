"""The bed board page: every ward's beds by state, the bed queue, and actions on a bed, updated live.

The page polls its live fragment every 10 seconds (htmx). The fragment carries a version (ETag) of what
it shows; the browser sends it back (If-None-Match) and an unchanged board is answered 204 (htmx keeps
the page as it is) or 304, after one cheap query. Actions post to the ADT services and answer with the
re-rendered fragment, so the user never reloads the page.
"""

import hashlib
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hospital.core import roles
from hospital.core.services.access_log import access_log_record
from scheduling.models import Bed
from scheduling.selectors.beds import OCCUPIED, bed_state
from scheduling.selectors.board import bed_board, bed_board_version, bed_tile
from scheduling.services.adt import bed_block, bed_cleaning_complete, bed_stay_discharge, bed_unblock

# How often an open board asks whether anything changed (setting BED_BOARD_POLL_SECONDS).
POLL_SECONDS = 10
_ZERO = uuid.UUID(int=0)


def may_view_board(user) -> bool:
    return user.is_superuser or user.has_role(roles.BED_MANAGER, roles.NURSE, roles.DOCTOR)


def board_permissions(user) -> dict[str, bool]:
    """What the user may do on the board; the templates show only those buttons."""
    return {
        "can_assign": user.has_perm("scheduling.change_bedrequest") and user.has_perm("scheduling.add_bedstay"),
        "can_discharge": user.has_perm("scheduling.change_bedstay"),
        "can_clean": user.has_perm("scheduling.change_bedcleaning"),
        "can_block": user.has_perm("scheduling.add_bedblock") and user.has_perm("scheduling.change_bedblock"),
    }


def _bed_url() -> str:
    return reverse("scheduling:bed_board_bed", args=[_ZERO]).split(str(_ZERO))[0]


def _etag(request, version: str) -> str:
    # The fragment differs by viewer (names, buttons), language and day (overdue discharges), not only by data.
    key = f"{version}|{request.user.pk}|{translation.get_language()}|{timezone.localdate()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _matches(request, etag: str) -> bool:
    sent = request.headers.get("If-None-Match", "")
    return any(tag.strip().removeprefix("W/").strip('"') == etag for tag in sent.split(",") if tag.strip())


_ICONS = {"occupied": "●", "free": "○", "cleaning": "◐", "blocked": "✕"}


def _bed_tiles_html(tiles, *, bed_url: str) -> str:
    """The <li> of every bed of a ward, built here: a template loop over a thousand beds costs more than
    all the board's queries together. Every text that comes from data is escaped."""
    labels = {
        "occupied": _("Occupied"),
        "free": _("Free"),
        "cleaning": _("Cleaning"),
        "blocked": _("Blocked"),
    }
    expected, details = escape(_("Expected discharge")), escape(_("Details and actions"))
    parts = []
    for tile in tiles:
        state, bed = tile.state, tile.state.bed
        name = state.state
        title = f' title="{escape(tile.full_name)}"' if tile.full_name else ""
        note = ""
        if name == "occupied":
            note = f'<span class="bed-who" data-testid="bed-initials">{escape(tile.initials)}</span>'
            if state.expected_discharge_on:
                day = date_format(state.expected_discharge_on, "d M")
                note += f'<span class="bed-edd" title="{expected}">→ {escape(day)}</span>'
        elif name == "cleaning":
            note = f'<span class="bed-note">{escape(labels["cleaning"])}</span>'
        elif name == "blocked":
            note = f'<span class="bed-note" title="{escape(state.block_reason)}">{escape(labels["blocked"])}</span>'
        link = f"{bed_url}{bed.external_id}/"
        parts.append(
            f'<li class="bed state-{name}{" overdue" if tile.overdue else ""}" data-bed="{escape(bed.code)}" '
            f'data-state="{name}"><details class="bed-menu"><summary{title}>'
            f'<span class="bed-code">{escape(bed.code)}</span>'
            f'<span class="bed-icon" aria-hidden="true">{_ICONS.get(name, "✕")}</span>'
            f'<span class="visually-hidden">{escape(labels.get(name, labels["blocked"]))}</span>{note}</summary>'
            f'<div class="bed-panel" hx-get="{link}" hx-trigger="toggle from:closest details once" '
            f'hx-swap="innerHTML"><a href="{link}">{details}</a></div></details></li>'
        )
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text above is escaped


def _board_context(request, *, etag: str, notice: dict | None = None) -> dict:
    board = bed_board(fetched_by=request.user)
    bed_url = _bed_url()
    for ward in board.wards:
        ward.beds_html = _bed_tiles_html(ward.beds, bed_url=bed_url)
    access_log_record(
        actor=request.user,
        action="read",
        object_type="scheduling.bed_board",
        detail={
            "beds": board.capacity,
            "occupied": board.totals[OCCUPIED],
            "queue": len(board.queue),
            "names_shown": board.names_shown,
        },
    )
    return {
        "board": board,
        "etag": etag,
        "notice": notice,
        # Tiles build their action URLs from this prefix: a thousand {% url %} tags cost more than the queries.
        "bed_url": bed_url,
        "poll_seconds": getattr(settings, "BED_BOARD_POLL_SECONDS", POLL_SECONDS),
        "updated_at": timezone.localtime(),
        **board_permissions(request.user),
    }


def render_board_fragment(
    request, *, notice: dict | None = None, status: int = 200, etag: str | None = None
) -> HttpResponse:
    """The live fragment (wards and queue) with its ETag; actions answer with it after they write."""
    etag = etag or _etag(request, bed_board_version())
    response = render(
        request, "scheduling/board_live.html", _board_context(request, etag=etag, notice=notice), status=status
    )
    response["ETag"] = f'"{etag}"'
    response["Cache-Control"] = "private, no-cache"
    return response


def _check_view(request) -> None:
    if not may_view_board(request.user):
        raise PermissionDenied


@login_required
@require_GET
def bed_board_page(request):
    """The whole page: header, legend, the forecast block (filled by the forecasting pages), the live part."""
    _check_view(request)
    etag = _etag(request, bed_board_version())
    return render(request, "scheduling/board.html", _board_context(request, etag=etag))


@login_required
@require_GET
def bed_board_live(request):
    """The live fragment; 204 (htmx) or 304 when the board has not changed since the version the client has."""
    _check_view(request)
    etag = _etag(request, bed_board_version())
    if _matches(request, etag):
        response = HttpResponse(status=204 if request.htmx else 304)
        response["ETag"] = f'"{etag}"'
        return response
    return render_board_fragment(request, etag=etag)


@login_required
@require_GET
def bed_board_bed(request, external_id):
    """One bed's menu: who lies there (full name where allowed), since when, and the actions the user may take.

    The board loads it when a bed is opened, so the board itself carries no per-bed forms.
    """
    require_board_permission(request, None)
    bed = get_object_or_404(Bed.objects.select_related("ward", "room"), external_id=external_id)
    tile = bed_tile(fetched_by=request.user, bed=bed)
    if tile is None:
        raise Http404
    if tile.full_name:
        access_log_record(
            actor=request.user,
            action="read",
            object_type="scheduling.bedstay",
            object_id=str(tile.state.stay.external_id),
            patient_external_id=tile.state.patient.external_id,
            detail={"bed": str(bed), "view": "bed board"},
        )
    context = {"tile": tile, "bed_url": _bed_url(), **board_permissions(request.user)}
    template = "scheduling/board_bed_panel.html" if request.htmx else "scheduling/board_bed.html"
    return render(request, template, context)


def action_response(request, *, ok: str | None = None, error: ValidationError | None = None) -> HttpResponse:
    """After an action: the re-rendered fragment with a notice (htmx), or a redirect back to the page."""
    if ok:
        text = ok
    else:
        assert error is not None  # callers pass one of the two
        text = " ".join(error.messages)
    level = "success" if ok else "error"
    if request.htmx:
        return render_board_fragment(request, notice={"level": level, "text": text})
    getattr(messages, level)(request, text)
    return redirect(reverse("scheduling:bed_board"))


def _bed(external_id) -> Bed:
    return get_object_or_404(Bed.objects.select_related("ward"), external_id=external_id)


def require_board_permission(request, permission: str | None) -> None:
    _check_view(request)
    if permission and not board_permissions(request.user)[permission]:
        raise PermissionDenied


@login_required
@require_POST
def bed_board_discharge(request, external_id):
    """Discharge the patient lying in the bed; the bed turns "cleaning"."""
    require_board_permission(request, "can_discharge")
    bed = _bed(external_id)
    state = bed_state(bed=bed)
    if state is None or state.state != OCCUPIED:
        return action_response(request, error=ValidationError(_("No patient lies in bed %(bed)s.") % {"bed": bed}))
    try:
        bed_stay_discharge(encounter=state.stay.encounter, discharged_by=request.user)
    except ValidationError as exc:
        return action_response(request, error=exc)
    return action_response(
        request, ok=_("Discharged from bed %(bed)s; the bed is waiting for cleaning.") % {"bed": bed}
    )


@login_required
@require_POST
def bed_board_clean(request, external_id):
    """Housekeeping has cleaned the bed: it is free again."""
    require_board_permission(request, "can_clean")
    bed = _bed(external_id)
    try:
        bed_cleaning_complete(bed=bed, completed_by=request.user)
    except ValidationError as exc:
        return action_response(request, error=exc)
    return action_response(request, ok=_("Bed %(bed)s is clean and free.") % {"bed": bed})


@login_required
@require_POST
def bed_board_block(request, external_id):
    """Block the bed from now on, with the reason typed in the bed's menu."""
    require_board_permission(request, "can_block")
    bed = _bed(external_id)
    try:
        bed_block(bed=bed, reason=request.POST.get("reason", "")[:300], blocked_by=request.user)
    except ValidationError as exc:
        return action_response(request, error=exc)
    return action_response(request, ok=_("Bed %(bed)s is blocked.") % {"bed": bed})


@login_required
@require_POST
def bed_board_unblock(request, external_id):
    """End the bed's block now."""
    require_board_permission(request, "can_block")
    bed = _bed(external_id)
    try:
        bed_unblock(bed=bed, unblocked_by=request.user)
    except ValidationError as exc:
        return action_response(request, error=exc)
    return action_response(request, ok=_("Bed %(bed)s is back in use.") % {"bed": bed})


urlpatterns = [
    path("beds/board/", bed_board_page, name="bed_board"),
    path("beds/board/live/", bed_board_live, name="bed_board_live"),
    path("beds/board/beds/<uuid:external_id>/", bed_board_bed, name="bed_board_bed"),
    path("beds/board/beds/<uuid:external_id>/discharge/", bed_board_discharge, name="bed_board_discharge"),
    path("beds/board/beds/<uuid:external_id>/clean/", bed_board_clean, name="bed_board_clean"),
    path("beds/board/beds/<uuid:external_id>/block/", bed_board_block, name="bed_board_block"),
    path("beds/board/beds/<uuid:external_id>/unblock/", bed_board_unblock, name="bed_board_unblock"),
]
