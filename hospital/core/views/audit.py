"""The access-log page for auditors: filter, page through, and verify the hash chain on demand."""

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from hospital.core.models import AccessLog
from hospital.core.selectors.access_log import access_log_can_view, access_log_list
from hospital.core.services.access_log import access_log_verify

PAGE_SIZE = 50


class AccessLogFilterForm(forms.Form):
    patient = forms.UUIDField(label=_("Patient id"), required=False)
    user = forms.CharField(label=_("User"), required=False, max_length=150, help_text=_("Username"))
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any action")), *AccessLog.Action.choices]
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return cleaned


def _start_of_day(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@login_required
@require_http_methods(["GET", "POST"])
def access_log_page(request):
    """Filtered, paginated access log (GET); POST verifies the hash chain and shows the result."""
    if not access_log_can_view(request.user):
        raise PermissionDenied
    # Filters travel in the query string on GET and POST alike, so verifying keeps the table as it was.
    form = AccessLogFilterForm(request.GET or None)
    entries = AccessLog.objects.none()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        entries = access_log_list(
            fetched_by=request.user,
            patient_external_id=data["patient"],
            actor=data["user"].strip() or None,
            action=data["action"] or None,
            since=_start_of_day(data["date_from"]) if data["date_from"] else None,
            until=_start_of_day(data["date_to"] + timedelta(days=1)) if data["date_to"] else None,
        )
    elif not form.is_bound:
        entries = access_log_list(fetched_by=request.user)

    verification = access_log_verify() if request.method == "POST" else None
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "core/access_log.html",
        {"form": form, "page_obj": page, "entries": page.object_list, "verification": verification},
    )
