"""REST API of the formulary: any signed-in user may search and read it."""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from pharmacy.models import Drug
from pharmacy.selectors import drug_get, drug_list


class DrugOutputSerializer(serializers.ModelSerializer):
    form_display = serializers.CharField(source="get_form_display", help_text="The form in the user's language.")
    display_name = serializers.CharField(source="__str__", help_text="Name, strength and form in one line.")

    class Meta:
        model = Drug
        fields = [
            "external_id",
            "display_name",
            "generic_name_en",
            "generic_name_zh",
            "form",
            "form_display",
            "strength",
            "route",
            "atc_code",
            "high_alert",
            "synonyms",
            "is_active",
        ]
        read_only_fields = fields


class DrugFilterSerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Text in the English or Chinese generic name or a synonym (brand name, abbreviation); "
        "tolerates small misspellings. Best matches come first.",
    )
    # default=None: a query string without the parameter means "either", not "false".
    high_alert = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="Only high-alert drugs (true) or only others (false)."
    )


@extend_schema_view(
    get=extend_schema(
        operation_id="pharmacy_drug_list",
        summary="Search the formulary",
        description="Active formulary drugs, paginated. With q, the drugs matching it, best first; without, "
        "all of them by name, form and strength. Any signed-in user.",
        parameters=[DrugFilterSerializer],
        responses={200: DrugOutputSerializer(many=True), 400: OpenApiResponse(description="Invalid parameters.")},
    )
)
class DrugListApi(generics.ListAPIView):
    """Search and list the active formulary."""

    serializer_class = DrugOutputSerializer

    def get_queryset(self):
        filters = DrugFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return drug_list(query=filters.validated_data.get("q", ""), high_alert=filters.validated_data["high_alert"])


class DrugDetailApi(APIView):
    """One formulary drug."""

    @extend_schema(
        operation_id="pharmacy_drug_retrieve",
        responses={200: DrugOutputSerializer, 404: OpenApiResponse(description="No drug with this external id.")},
        description="One drug by external id, also a retired (inactive) one, so that old orders can show it.",
    )
    def get(self, request, external_id):
        try:
            drug = drug_get(external_id)
        except Drug.DoesNotExist as exc:
            raise Http404 from exc
        return Response(DrugOutputSerializer(drug).data)
