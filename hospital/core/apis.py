"""API of the core app."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView


class MeOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    is_integration_client = serializers.BooleanField()


class MeApi(APIView):
    """The signed-in user (session) or integration client (token) and their roles."""

    @extend_schema(responses=MeOutputSerializer)
    def get(self, request):
        user = request.user
        return Response(
            MeOutputSerializer(
                {
                    "external_id": user.external_id,
                    "username": user.username,
                    "display_name": str(user),
                    "roles": sorted(user.role_names),
                    "is_integration_client": user.is_integration_client,
                }
            ).data
        )
