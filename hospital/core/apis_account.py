"""API of the signed-in account: preferences, and the token exchange for integration clients."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from hospital.core.language import language_cookie_set
from hospital.core.models import PREFERRED_LANGUAGES
from hospital.core.selectors.authentication import user_is_integration_client
from hospital.core.services.authentication import api_token_for_client
from hospital.core.services.preferences import user_preferences_update


class PreferencesSerializer(serializers.Serializer):
    preferred_language = serializers.ChoiceField(
        choices=PREFERRED_LANGUAGES,
        allow_blank=True,
        help_text='Language of the pages: "en" or "zh-hans"; "" follows the browser.',
    )


class PreferencesApi(APIView):
    """The signed-in user's own preferences. The pages' language follows `preferred_language`."""

    @extend_schema(responses=PreferencesSerializer)
    def get(self, request):
        return Response(PreferencesSerializer({"preferred_language": request.user.preferred_language}).data)

    @extend_schema(request=PreferencesSerializer, responses=PreferencesSerializer)
    def post(self, request):
        serializer = PreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_preferences_update(user=request.user, **serializer.validated_data)
        response = Response(PreferencesSerializer({"preferred_language": user.preferred_language}).data)
        if isinstance(request.successful_authenticator, SessionAuthentication):
            # A browser session switches language at once; token clients get no cookies.
            language_cookie_set(response, user.preferred_language)
        return response


class InvalidCredentials(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("Unable to sign in with these credentials.")
    default_code = "invalid_credentials"


class ApiTokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class ApiTokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()


class ApiTokenObtainApi(APIView):
    """An integration client exchanges its username and password for its API token.

    Failures count towards the same lockout as the sign-in page; a locked account gets 429 "locked_out".
    """

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(request=ApiTokenInputSerializer, responses=ApiTokenOutputSerializer, auth=[])
    def post(self, request):
        serializer = ApiTokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The Django request, not DRF's wrapper: django-axes marks that one when the account locks, and its
        # middleware then answers with the lockout error.
        user = authenticate(request._request, **serializer.validated_data)
        if user is None:
            raise InvalidCredentials()
        if not user_is_integration_client(user=user):
            raise exceptions.PermissionDenied(_("Only integration clients use API tokens; people sign in on the web."))
        return Response(ApiTokenOutputSerializer({"token": api_token_for_client(user=user)}).data)
