"""REST API of the problem list (ICD-10 conditions), allergies and medication orders, and the ICD-10 search.

Patient-scoped endpoints check the user's access to the patient (emr.selectors.access) and the Django
permission of the record type; every list read writes one access-log entry. An order that conflicts with an
active allergy is refused with 400, error code "allergy_conflict", the conflicts under fields.allergy and in
error.conflicts; sending allergy_override_reason (at least 10 characters) places it anyway.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError as DrfValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from emr.apis.patients import permission_required
from emr.models import Allergy, Condition, Encounter, MedicationOrder, Patient
from emr.selectors.access import is_clinician, patient_for_clinical_read, patient_for_clinical_write
from emr.selectors.clinical import allergy_list, condition_list, medication_order_list
from emr.selectors.terminology import SEARCH_LIMIT_MAX, icd10_get, icd10_search
from emr.services.clinical import (
    OVERRIDE_REASON_MIN_LENGTH,
    AllergyConflictError,
    allergy_none_known,
    allergy_record,
    allergy_update_status,
    condition_record,
    condition_update_status,
    medication_order_create,
    medication_order_stop,
)
from hospital.core.services.access_log import access_log_record
from pharmacy.models import Drug

STATUS_ALL = "all"


class IsClinician(BasePermission):
    """Doctors, nurses and superusers (the ICD-10 picker is a clinical tool)."""

    message = _("Your role does not give access to clinical records.")

    def has_permission(self, request, view) -> bool:
        return is_clinician(request.user)


def _patient(request, external_id, *, write: bool = False) -> Patient:
    lookup = patient_for_clinical_write if write else patient_for_clinical_read
    try:
        return lookup(user=request.user, external_id=external_id)
    except Patient.DoesNotExist as exc:
        raise Http404 from exc


def _log_read(request, patient: Patient, object_type: str, *, count: int, status_filter: str) -> None:
    access_log_record(
        actor=request.user,
        action="read",
        object_type=object_type,
        patient_external_id=patient.external_id,
        detail={
            "count": count,
            "status": status_filter,
            "via_break_glass": bool(getattr(patient, "via_break_glass", False)),
        },
    )


def _status_filter(request, choices) -> tuple[str | None, str]:
    value = request.query_params.get("status", "active")
    if value == STATUS_ALL:
        return None, value
    if value not in choices:
        raise DrfValidationError({"status": _("Unknown status “%(value)s”.") % {"value": value}})
    return value, value


def _encounter(patient: Patient, external_id) -> Encounter | None:
    if external_id is None:
        return None
    try:
        return Encounter.objects.get(external_id=external_id, patient=patient)
    except Encounter.DoesNotExist:
        raise DrfValidationError({"encounter": _("No encounter of this patient has this id.")}) from None


def _drug(external_id, field: str = "drug") -> Drug | None:
    if external_id is None:
        return None
    try:
        return Drug.objects.get(external_id=external_id)
    except Drug.DoesNotExist:
        raise DrfValidationError({field: _("No formulary drug has this id.")}) from None


# --- Serializers -------------------------------------------------------------------------------------------------


class Icd10OutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    title_zh = serializers.CharField()
    kind = serializers.CharField()
    parent_code = serializers.CharField()
    is_leaf = serializers.BooleanField()


class DrugBriefSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    generic_name_en = serializers.CharField()
    generic_name_zh = serializers.CharField()
    form = serializers.CharField()
    strength = serializers.CharField()
    atc_code = serializers.CharField()
    high_alert = serializers.BooleanField()


class ConditionOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    icd10 = Icd10OutputSerializer()
    clinical_status = serializers.ChoiceField(choices=Condition.ClinicalStatus.choices)
    verification = serializers.ChoiceField(choices=Condition.Verification.choices)
    onset_date = serializers.DateField(allow_null=True)
    abatement_date = serializers.DateField(allow_null=True)
    note = serializers.CharField()
    encounter = serializers.UUIDField(source="encounter.external_id", allow_null=True, default=None)
    recorded_by = serializers.CharField(source="recorded_by.get_username")
    created_at = serializers.DateTimeField()


class AllergyOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    substance = serializers.CharField()
    drug = DrugBriefSerializer(allow_null=True)
    category = serializers.ChoiceField(choices=Allergy.Category.choices)
    reaction = serializers.CharField()
    severity = serializers.ChoiceField(choices=Allergy.Severity.choices)
    status = serializers.ChoiceField(choices=Allergy.Status.choices)
    recorded_by = serializers.CharField(source="recorded_by.get_username")
    created_at = serializers.DateTimeField()


class AllergyConflictSerializer(serializers.Serializer):
    allergy = serializers.UUIDField()
    substance = serializers.CharField()
    severity = serializers.CharField()
    reason = serializers.ChoiceField(choices=["same_drug", "same_substance", "same_class"])
    message = serializers.CharField()


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class MedicationOrderOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    drug = DrugBriefSerializer()
    dose = serializers.DecimalField(max_digits=10, decimal_places=3)
    dose_unit = serializers.CharField()
    route = serializers.ChoiceField(choices=MedicationOrder.Route.choices)
    frequency = serializers.ChoiceField(choices=MedicationOrder.Frequency.choices)
    duration_days = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=MedicationOrder.Status.choices)
    instructions = serializers.CharField()
    allergy_override_reason = serializers.CharField()
    allergy_conflicts = AllergyConflictSerializer(many=True)
    encounter = serializers.UUIDField(source="encounter.external_id", allow_null=True, default=None)
    ordered_by = serializers.CharField(source="ordered_by.get_username")
    ordered_at = serializers.DateTimeField()


class MedicationOrderCreatedSerializer(MedicationOrderOutputSerializer):
    warnings = WarningSerializer(many=True)


_STATUS_PARAMETER = OpenApiParameter(
    "status", str, description="A status to list, or “all” (default: active).", required=False
)
_ACCESS_RESPONSES = {
    403: OpenApiResponse(description="Missing the permission, or the user does not treat this patient."),
    404: OpenApiResponse(description="No patient (or record of this patient) with this id."),
}


# --- ICD-10 ----------------------------------------------------------------------------------------------------


class Icd10SearchApi(APIView):
    """Search WHO ICD-10 by code or words (English or Chinese)."""

    permission_classes = [IsAuthenticated, IsClinician]

    @extend_schema(
        operation_id="emr_icd10_search",
        parameters=[
            OpenApiParameter("q", str, description="A code prefix (I21, i21.9, I219) or words (English or Chinese)."),
            OpenApiParameter(
                "limit", int, description=f"At most this many results (1-{SEARCH_LIMIT_MAX}, default 20)."
            ),
            OpenApiParameter("leaf_only", bool, description="Only recordable codes (default true)."),
        ],
        responses={200: Icd10OutputSerializer(many=True), 403: OpenApiResponse(description="Not a clinician.")},
        description="Code-prefix matches first (in code order), then titles holding every word, then similar "
        "titles. Reference data: not access-logged.",
    )
    def get(self, request):
        try:
            limit = int(request.query_params.get("limit", 20))
        except ValueError:
            raise DrfValidationError({"limit": _("Enter a whole number.")}) from None
        leaf_only = request.query_params.get("leaf_only", "true").lower() not in ("false", "0", "no")
        results = icd10_search(query=request.query_params.get("q", ""), limit=limit, leaf_only=leaf_only)
        return Response(Icd10OutputSerializer(results, many=True).data)


class Icd10DetailApi(APIView):
    """One ICD-10 entry by code (with or without the dot)."""

    permission_classes = [IsAuthenticated, IsClinician]

    @extend_schema(
        operation_id="emr_icd10_retrieve",
        responses={200: Icd10OutputSerializer, 404: OpenApiResponse(description="Not a WHO ICD-10 code.")},
    )
    def get(self, request, code):
        try:
            entry = icd10_get(code)
        except DjangoValidationError as exc:
            raise Http404(exc.messages[0]) from exc
        return Response(Icd10OutputSerializer(entry).data)


# --- Conditions ------------------------------------------------------------------------------------------------


class ConditionListCreateApi(APIView):
    """The patient's conditions (problem list), and recording a new one."""

    def get_permissions(self):
        perm = "emr.view_condition" if self.request.method == "GET" else "emr.add_condition"
        return [IsAuthenticated(), permission_required(perm)()]

    class ConditionCreateInputSerializer(serializers.Serializer):
        icd10_code = serializers.CharField(max_length=16)
        encounter = serializers.UUIDField(required=False, allow_null=True, default=None)
        clinical_status = serializers.ChoiceField(
            choices=Condition.ClinicalStatus.choices, default=Condition.ClinicalStatus.ACTIVE
        )
        verification = serializers.ChoiceField(
            choices=Condition.Verification.choices, default=Condition.Verification.CONFIRMED
        )
        onset_date = serializers.DateField(required=False, allow_null=True, default=None)
        note = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="emr_condition_list",
        parameters=[_STATUS_PARAMETER],
        responses={200: ConditionOutputSerializer(many=True), **_ACCESS_RESPONSES},
        description="Conditions with their ICD-10 entries, newest onset first (default: active ones). Logged as "
        "one read.",
    )
    def get(self, request, external_id):
        patient = _patient(request, external_id)
        clinical_status, label = _status_filter(request, Condition.ClinicalStatus.values)
        conditions = list(condition_list(patient=patient, clinical_status=clinical_status))
        _log_read(request, patient, "emr.condition", count=len(conditions), status_filter=label)
        return Response(ConditionOutputSerializer(conditions, many=True).data)

    @extend_schema(
        operation_id="emr_condition_create",
        request=ConditionCreateInputSerializer,
        responses={
            201: ConditionOutputSerializer,
            400: OpenApiResponse(description="Invalid fields (e.g. an unknown ICD-10 code); nothing was written."),
            **_ACCESS_RESPONSES,
        },
    )
    def post(self, request, external_id):
        patient = _patient(request, external_id, write=True)
        serializer = self.ConditionCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        condition = condition_record(
            patient=patient,
            icd10_code=data["icd10_code"],
            recorded_by=request.user,
            encounter=_encounter(patient, data["encounter"]),
            clinical_status=data["clinical_status"],
            verification=data["verification"],
            onset_date=data["onset_date"],
            note=data["note"],
        )
        return Response(ConditionOutputSerializer(condition).data, status=status.HTTP_201_CREATED)


class ConditionDetailApi(APIView):
    """Change a condition's status or verification."""

    permission_classes = [IsAuthenticated, permission_required("emr.change_condition")]

    class ConditionStatusInputSerializer(serializers.Serializer):
        clinical_status = serializers.ChoiceField(choices=Condition.ClinicalStatus.choices, required=False)
        verification = serializers.ChoiceField(choices=Condition.Verification.choices, required=False)
        abatement_date = serializers.DateField(required=False, allow_null=True)

    @extend_schema(
        operation_id="emr_condition_update_status",
        request=ConditionStatusInputSerializer,
        responses={200: ConditionOutputSerializer, 400: OpenApiResponse(description="Invalid."), **_ACCESS_RESPONSES},
    )
    def patch(self, request, external_id, condition_id):
        patient = _patient(request, external_id, write=True)
        try:
            condition = Condition.objects.get(external_id=condition_id, patient=patient)
        except Condition.DoesNotExist as exc:
            raise Http404 from exc
        serializer = self.ConditionStatusInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        condition = condition_update_status(condition=condition, updated_by=request.user, **serializer.validated_data)
        condition = condition_list(patient=patient, clinical_status=None).get(pk=condition.pk)
        return Response(ConditionOutputSerializer(condition).data)


# --- Allergies -------------------------------------------------------------------------------------------------


class AllergyListCreateApi(APIView):
    """The patient's allergies, and recording a new one."""

    def get_permissions(self):
        perm = "emr.view_allergy" if self.request.method == "GET" else "emr.add_allergy"
        return [IsAuthenticated(), permission_required(perm)()]

    class AllergyCreateInputSerializer(serializers.Serializer):
        substance = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        drug = serializers.UUIDField(required=False, allow_null=True, default=None)
        category = serializers.ChoiceField(choices=Allergy.Category.choices, default=Allergy.Category.DRUG)
        reaction = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
        severity = serializers.ChoiceField(choices=Allergy.Severity.choices, default=Allergy.Severity.MODERATE)

    @extend_schema(
        operation_id="emr_allergy_list",
        parameters=[_STATUS_PARAMETER],
        responses={200: AllergyOutputSerializer(many=True), **_ACCESS_RESPONSES},
        description="Allergies by substance (default: active ones). Logged as one read.",
    )
    def get(self, request, external_id):
        patient = _patient(request, external_id)
        allergy_status, label = _status_filter(request, Allergy.Status.values)
        allergies = list(allergy_list(patient=patient, status=allergy_status))
        _log_read(request, patient, "emr.allergy", count=len(allergies), status_filter=label)
        return Response(AllergyOutputSerializer(allergies, many=True).data)

    @extend_schema(
        operation_id="emr_allergy_create",
        request=AllergyCreateInputSerializer,
        responses={201: AllergyOutputSerializer, 400: OpenApiResponse(description="Invalid."), **_ACCESS_RESPONSES},
        description="Record an active allergy; the patient's allergy status becomes “has allergies”.",
    )
    def post(self, request, external_id):
        patient = _patient(request, external_id, write=True)
        serializer = self.AllergyCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        allergy = allergy_record(
            patient=patient,
            substance=data["substance"],
            recorded_by=request.user,
            drug=_drug(data["drug"]),
            category=data["category"],
            reaction=data["reaction"],
            severity=data["severity"],
        )
        return Response(AllergyOutputSerializer(allergy).data, status=status.HTTP_201_CREATED)


class AllergyDetailApi(APIView):
    """Set an allergy active, inactive or refuted."""

    permission_classes = [IsAuthenticated, permission_required("emr.change_allergy")]

    class AllergyStatusInputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Allergy.Status.choices)

    @extend_schema(
        operation_id="emr_allergy_update_status",
        request=AllergyStatusInputSerializer,
        responses={200: AllergyOutputSerializer, 400: OpenApiResponse(description="Invalid."), **_ACCESS_RESPONSES},
    )
    def patch(self, request, external_id, allergy_id):
        patient = _patient(request, external_id, write=True)
        try:
            allergy = Allergy.objects.select_related("drug", "recorded_by").get(external_id=allergy_id, patient=patient)
        except Allergy.DoesNotExist as exc:
            raise Http404 from exc
        serializer = self.AllergyStatusInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        allergy = allergy_update_status(
            allergy=allergy, status=serializer.validated_data["status"], updated_by=request.user
        )
        return Response(AllergyOutputSerializer(allergy).data)


class AllergyNoneKnownApi(APIView):
    """Record that the patient has no known allergies."""

    permission_classes = [IsAuthenticated, permission_required("emr.add_allergy")]

    @extend_schema(
        operation_id="emr_allergy_none_known",
        request=None,
        responses={
            200: inline_serializer("AllergyStatus", {"allergy_status": serializers.CharField()}),
            400: OpenApiResponse(description="The patient has active allergies; nothing was written."),
            **_ACCESS_RESPONSES,
        },
    )
    def post(self, request, external_id):
        patient = _patient(request, external_id, write=True)
        patient = allergy_none_known(patient=patient, recorded_by=request.user)
        return Response({"allergy_status": patient.allergy_status})


# --- Medication orders -------------------------------------------------------------------------------------------


class MedicationOrderListCreateApi(APIView):
    """The patient's medication orders, and placing a new one (with the allergy check)."""

    def get_permissions(self):
        perm = "emr.view_medicationorder" if self.request.method == "GET" else "emr.add_medicationorder"
        return [IsAuthenticated(), permission_required(perm)()]

    class MedicationOrderCreateInputSerializer(serializers.Serializer):
        drug = serializers.UUIDField()
        dose = serializers.DecimalField(max_digits=10, decimal_places=3)
        dose_unit = serializers.CharField(max_length=20)
        route = serializers.ChoiceField(choices=MedicationOrder.Route.choices)
        frequency = serializers.ChoiceField(choices=MedicationOrder.Frequency.choices)
        duration_days = serializers.IntegerField(required=False, allow_null=True, default=None)
        encounter = serializers.UUIDField(required=False, allow_null=True, default=None)
        instructions = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
        allergy_override_reason = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="emr_medication_order_list",
        parameters=[_STATUS_PARAMETER],
        responses={200: MedicationOrderOutputSerializer(many=True), **_ACCESS_RESPONSES},
        description="Medication orders, newest first (default: active ones). Logged as one read.",
    )
    def get(self, request, external_id):
        patient = _patient(request, external_id)
        order_status, label = _status_filter(request, MedicationOrder.Status.values)
        orders = list(medication_order_list(patient=patient, status=order_status))
        _log_read(request, patient, "emr.medicationorder", count=len(orders), status_filter=label)
        return Response(MedicationOrderOutputSerializer(orders, many=True).data)

    @extend_schema(
        operation_id="emr_medication_order_create",
        request=MedicationOrderCreateInputSerializer,
        responses={
            201: MedicationOrderCreatedSerializer,
            400: OpenApiResponse(
                description="Invalid fields (e.g. a dose not above zero), or error.code “allergy_conflict”: the "
                "drug conflicts with an active allergy (fields.allergy lists the messages, error.conflicts the "
                f"details). Send allergy_override_reason (at least {OVERRIDE_REASON_MIN_LENGTH} characters) to "
                "place the order anyway. Nothing was written."
            ),
            **_ACCESS_RESPONSES,
        },
        description="Place an order for a formulary drug. The response's warnings include "
        "“allergy_status_unknown” when the patient was never asked about allergies.",
    )
    def post(self, request, external_id):
        patient = _patient(request, external_id, write=True)
        serializer = self.MedicationOrderCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            order = medication_order_create(
                patient=patient,
                drug=_drug(data["drug"]),
                dose=data["dose"],
                dose_unit=data["dose_unit"],
                route=data["route"],
                frequency=data["frequency"],
                duration_days=data["duration_days"],
                ordered_by=request.user,
                encounter=_encounter(patient, data["encounter"]),
                instructions=data["instructions"],
                allergy_override_reason=data["allergy_override_reason"],
            )
        except AllergyConflictError as exc:
            body = {
                "code": AllergyConflictError.code,
                "message": _("The drug conflicts with the patient's allergies."),
                "fields": exc.message_dict,
                "conflicts": exc.conflicts,
            }
            return Response({"error": body}, status=status.HTTP_400_BAD_REQUEST)
        output = MedicationOrderOutputSerializer(order).data
        return Response({**output, "warnings": order.warnings}, status=status.HTTP_201_CREATED)


class MedicationOrderStopApi(APIView):
    """Stop an active medication order."""

    permission_classes = [IsAuthenticated, permission_required("emr.change_medicationorder")]

    class MedicationOrderStopInputSerializer(serializers.Serializer):
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="emr_medication_order_stop",
        request=MedicationOrderStopInputSerializer,
        responses={
            200: MedicationOrderOutputSerializer,
            400: OpenApiResponse(description="The order is not active."),
            **_ACCESS_RESPONSES,
        },
    )
    def post(self, request, external_id, order_id):
        patient = _patient(request, external_id, write=True)
        try:
            order = MedicationOrder.objects.get(external_id=order_id, patient=patient)
        except MedicationOrder.DoesNotExist as exc:
            raise Http404 from exc
        serializer = self.MedicationOrderStopInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        medication_order_stop(order=order, stopped_by=request.user, reason=serializer.validated_data["reason"])
        order = medication_order_list(patient=patient, status=None).get(pk=order.pk)
        return Response(MedicationOrderOutputSerializer(order).data)


_PATIENT = "patients/<uuid:external_id>/"

urlpatterns = [
    path("icd10/", Icd10SearchApi.as_view(), name="emr-icd10-search"),
    path("icd10/<str:code>/", Icd10DetailApi.as_view(), name="emr-icd10-detail"),
    path(f"{_PATIENT}conditions/", ConditionListCreateApi.as_view(), name="emr-condition-list"),
    path(f"{_PATIENT}conditions/<uuid:condition_id>/", ConditionDetailApi.as_view(), name="emr-condition-detail"),
    path(f"{_PATIENT}allergies/", AllergyListCreateApi.as_view(), name="emr-allergy-list"),
    path(f"{_PATIENT}allergies/none-known/", AllergyNoneKnownApi.as_view(), name="emr-allergy-none-known"),
    path(f"{_PATIENT}allergies/<uuid:allergy_id>/", AllergyDetailApi.as_view(), name="emr-allergy-detail"),
    path(f"{_PATIENT}medication-orders/", MedicationOrderListCreateApi.as_view(), name="emr-medication-order-list"),
    path(
        f"{_PATIENT}medication-orders/<uuid:order_id>/stop/",
        MedicationOrderStopApi.as_view(),
        name="emr-medication-order-stop",
    ),
]
