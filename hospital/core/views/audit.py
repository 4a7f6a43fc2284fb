"""The access-log page for auditors."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def access_log_page(request):
    return HttpResponse(status=501)
