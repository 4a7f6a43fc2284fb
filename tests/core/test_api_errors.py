"""One error format for the whole API: {"error": {"code", "message", "fields"}}.

Real endpoints where they exist (preferences, me); a few views defined here for the cases no endpoint raises yet.
"""

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import path
from rest_framework.views import APIView

from hospital.core.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PREFERENCES = "/api/v1/core/me/preferences/"


class _RaisingApi(APIView):
    exception = None

    def get(self, request):
        raise self.exception


def _page_that_fails(request):
    raise RuntimeError("unexpected")


# URLconf of the tests marked @pytest.mark.urls(__name__): the handlers are the ones hospital/urls.py names.
handler404 = "hospital.core.api_errors.handler404"
handler500 = "hospital.core.api_errors.handler500"
urlpatterns = [
    path("api/t/not-found/", _RaisingApi.as_view(exception=Http404("No patient with that id"))),
    path("api/t/denied/", _RaisingApi.as_view(exception=PermissionDenied())),
    path(
        "api/t/django-invalid/",
        _RaisingApi.as_view(exception=DjangoValidationError({"ends_at": ["Ends before it starts."]})),
    ),
    path("api/t/django-invalid-plain/", _RaisingApi.as_view(exception=DjangoValidationError("Bed is occupied."))),
    path("api/t/crash/", _RaisingApi.as_view(exception=RuntimeError("unexpected"))),
    path("t/crash/", _page_that_fails),
]


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    return body["error"]


def test_malformed_json_gives_400_parse_error(doctor_api):
    response = doctor_api.post(PREFERENCES, data='{"preferred_language": ', content_type="application/json")

    error = assert_error(response, 400, "parse_error")
    assert "JSON parse error" in error["message"]


def test_wrong_choice_gives_400_with_field_errors(doctor_api):
    response = doctor_api.post(PREFERENCES, {"preferred_language": "fr"}, format="json")

    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"preferred_language": ['"fr" is not a valid choice.']}


def test_wrong_type_gives_400_with_field_errors(doctor_api, doctor):
    response = doctor_api.post(PREFERENCES, {"preferred_language": ["en"]}, format="json")

    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == ["preferred_language"]
    doctor.refresh_from_db()
    assert doctor.preferred_language == ""  # nothing written


def test_missing_field_gives_400_with_field_errors(doctor_api):
    response = doctor_api.post(PREFERENCES, {}, format="json")

    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"preferred_language": ["This field is required."]}


def test_json_that_is_not_an_object_gives_400_with_non_field_errors(doctor_api):
    response = doctor_api.post(PREFERENCES, data="[1, 2]", content_type="application/json")

    error = assert_error(response, 400, "invalid")
    assert list(error["fields"]) == ["non_field_errors"]


def test_wrong_types_on_the_token_exchange_give_400_with_field_errors(api_client):
    response = api_client.post("/api/v1/core/auth/token/", {"username": {"a": 1}}, format="json")

    error = assert_error(response, 400, "invalid")
    assert set(error["fields"]) == {"username", "password"}


def test_unsupported_media_type_gives_415(doctor_api):
    response = doctor_api.post(PREFERENCES, data="preferred_language=en", content_type="text/plain")

    assert_error(response, 415, "unsupported_media_type")


def test_unauthenticated_gives_not_authenticated(api_client):
    for response in (api_client.get(PREFERENCES), api_client.post(PREFERENCES, {}, format="json")):
        assert_error(response, response.status_code, "not_authenticated")
        assert response.status_code in (401, 403)


def test_method_not_allowed_gives_405(doctor_api):
    response = doctor_api.delete("/api/v1/core/me/")

    error = assert_error(response, 405, "method_not_allowed")
    assert "DELETE" in error["message"]


def test_preferences_can_be_read_and_set(doctor_api, doctor):
    assert doctor_api.get(PREFERENCES).json() == {"preferred_language": ""}

    response = doctor_api.post(PREFERENCES, {"preferred_language": "zh-hans"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"preferred_language": "zh-hans"}
    assert User.objects.get(pk=doctor.pk).preferred_language == "zh-hans"


def test_setting_the_language_in_a_browser_session_switches_the_pages(client):
    user = UserFactory(username="nurse.li")
    client.force_login(user)

    response = client.post(PREFERENCES, {"preferred_language": "zh-hans"}, content_type="application/json")

    assert response.status_code == 200
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert client.get("/").headers["Content-Language"] == "zh-hans"

    response = client.post(PREFERENCES, {"preferred_language": ""}, content_type="application/json")
    assert User.objects.get(pk=user.pk).preferred_language == ""


def test_token_clients_get_no_language_cookie(api_client):
    from rest_framework.authtoken.models import Token

    user = UserFactory(username="his", is_integration_client=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    response = api_client.post(PREFERENCES, {"preferred_language": "en"}, format="json")

    assert response.status_code == 200
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


@pytest.mark.urls(__name__)
def test_not_found_gives_404_not_found(doctor_api):
    assert_error(doctor_api.get("/api/t/not-found/"), 404, "not_found")


@pytest.mark.urls(__name__)
def test_django_permission_denied_gives_403_permission_denied(doctor_api):
    assert_error(doctor_api.get("/api/t/denied/"), 403, "permission_denied")


@pytest.mark.urls(__name__)
def test_django_validation_error_gives_400_with_fields(doctor_api):
    error = assert_error(doctor_api.get("/api/t/django-invalid/"), 400, "invalid")
    assert error["fields"] == {"ends_at": ["Ends before it starts."]}

    error = assert_error(doctor_api.get("/api/t/django-invalid-plain/"), 400, "invalid")
    assert error["fields"] == {"non_field_errors": ["Bed is occupied."]}


@pytest.mark.urls(__name__)
def test_unknown_api_address_gives_404_not_found(doctor_api, client):
    error = assert_error(doctor_api.get("/api/v1/no-such-endpoint/"), 404, "not_found")
    assert error["message"] == "No API endpoint at this address."

    # pages keep their normal HTML 404
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


@pytest.mark.urls(__name__)
def test_unexpected_api_failure_gives_500_without_a_traceback(doctor_api, client):
    doctor_api.raise_request_exception = False
    response = doctor_api.get("/api/t/crash/")

    error = assert_error(response, 500, "server_error")
    assert "unexpected" not in response.content.decode()
    assert error["message"] == "The server failed to handle the request."

    client.raise_request_exception = False
    assert client.get("/t/crash/")["Content-Type"].startswith("text/html")
