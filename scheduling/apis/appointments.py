"""REST API of clinic slots, appointments and the day's outpatient queue: validate -> service/selector -> output."""

from collections.abc import Callable

from django.http import Http404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from emr.apis.patients import permission_required
from emr.models import Patient
from emr.selectors.access import PURPOSE_METADATA, patients_visible_to
from hospital.core.models import User
from scheduling.models import Appointment, AppointmentSlot, Department
from scheduling.selectors.appointments import (
    appointment_get,
    clinic_queue,
    free_slots,
    patient_appointments,
)
from scheduling.services.appointments import (
    SlotTaken,
    appointment_book,
    appointment_call,
    appointment_cancel,
    appointment_check_in,
    appointment_mark_seen,
    appointment_no_show,
    appointment_reschedule,
    slot_block,
    slot_unblock,
    slots_generate,
)

USER_REF_HELP = "External id (UUID) of a user."
SLOT_TAKEN_409 = OpenApiResponse(description="The slot already has a live booking (code slot_taken); nothing written.")


def _slot_taken_response(exc: SlotTaken) -> Response:
    body = {"code": SlotTaken.code, "message": exc.message_dict["slot"][0], "fields": exc.message_dict}
    return Response({"error": body}, status=status.HTTP_409_CONFLICT)


class SlotClinicianSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    username = serializers.CharField()
    display_name = serializers.CharField(source="__str__")


class SlotOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    clinician = SlotClinicianSerializer()
    department = serializers.UUIDField(source="department.external_id", allow_null=True, default=None)
    start = serializers.DateTimeField(source="period.lower")
    end = serializers.DateTimeField(source="period.upper")
    location = serializers.CharField()
    is_blocked = serializers.BooleanField()


class AppointmentPatientSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    mrn = serializers.CharField()
    full_name = serializers.CharField()


class AppointmentOutputSerializer(serializers.Serializer):
    external_id = serializers.UUIDField()
    slot = serializers.UUIDField(source="slot.external_id")
    clinician = serializers.UUIDField(source="slot.clinician.external_id")
    start = serializers.DateTimeField(source="slot.period.lower")
    end = serializers.DateTimeField(source="slot.period.upper")
    location = serializers.CharField(source="slot.location")
    patient = AppointmentPatientSerializer()
    status = serializers.ChoiceField(choices=Appointment.Status.choices)
    reason = serializers.CharField()
    checked_in_at = serializers.DateTimeField(allow_null=True)
    called_at = serializers.DateTimeField(allow_null=True)
    seen_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    rescheduled_from = serializers.UUIDField(source="rescheduled_from.external_id", allow_null=True, default=None)
    encounter = serializers.UUIDField(source="encounter.external_id", allow_null=True, default=None)


def _appointment_response(appointment: Appointment, status_code=status.HTTP_200_OK) -> Response:
    appointment = Appointment.objects.select_related(
        "slot", "slot__clinician", "patient", "rescheduled_from", "encounter"
    ).get(pk=appointment.pk)
    return Response(AppointmentOutputSerializer(appointment).data, status=status_code)


def _clinician_field(**kwargs):
    return serializers.SlugRelatedField(
        slug_field="external_id", queryset=User.objects.filter(is_active=True), help_text=USER_REF_HELP, **kwargs
    )


def _department_field(**kwargs):
    return serializers.SlugRelatedField(
        slug_field="external_id", queryset=Department.objects.all(), help_text="External id of a department.", **kwargs
    )


def _slot_field():
    return serializers.SlugRelatedField(
        slug_field="external_id", queryset=AppointmentSlot.objects.all(), help_text="External id of a slot."
    )


class SlotsGenerateApi(APIView):
    """Open a clinic session: a period of one clinician's day split into equal slots."""

    permission_classes = [IsAuthenticated, permission_required("scheduling.add_appointmentslot")]

    class SlotsGenerateInputSerializer(serializers.Serializer):
        clinician = _clinician_field(required=False, allow_null=True)
        department = _department_field(required=False, allow_null=True)
        day = serializers.DateField()
        start_time = serializers.TimeField()
        end_time = serializers.TimeField()
        slot_minutes = serializers.IntegerField()
        location = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="scheduling_slots_generate",
        request=SlotsGenerateInputSerializer,
        responses={
            201: SlotOutputSerializer(many=True),
            400: OpenApiResponse(description="Past day, bad times, overlap with the clinician's slots; nothing saved."),
        },
        description="Split the session into slots of slot_minutes for the clinician (default: the signed-in user). "
        "A clinician's slots never overlap (database exclusion constraint).",
    )
    def post(self, request):
        serializer = self.SlotsGenerateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        slots = slots_generate(
            clinician=data.get("clinician") or request.user,
            department=data.get("department"),
            day=data["day"],
            start_time=data["start_time"],
            end_time=data["end_time"],
            slot_minutes=data["slot_minutes"],
            location=data["location"],
            created_by=request.user,
        )
        return Response(SlotOutputSerializer(slots, many=True).data, status=status.HTTP_201_CREATED)


class FreeSlotsApi(APIView):
    """The bookable slots of a day."""

    permission_classes = [IsAuthenticated, permission_required("scheduling.view_appointmentslot")]

    class FreeSlotsQuerySerializer(serializers.Serializer):
        clinician = _clinician_field(required=False)
        department = _department_field(required=False)
        day = serializers.DateField(required=False)

    @extend_schema(
        operation_id="scheduling_slots_free",
        parameters=[
            OpenApiParameter("clinician", str, description=USER_REF_HELP),
            OpenApiParameter("department", str, description="External id of a department."),
            OpenApiParameter("day", str, description="YYYY-MM-DD; default today."),
        ],
        responses={200: SlotOutputSerializer(many=True)},
        description="Slots of the day not ended, not blocked and without a live booking, in time order.",
    )
    def get(self, request):
        serializer = self.FreeSlotsQuerySerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        day = data.get("day") or timezone.localdate()
        slots = free_slots(clinician=data.get("clinician"), department=data.get("department"), day=day)
        return Response(SlotOutputSerializer(slots, many=True).data)


def _slot_or_404(external_id) -> AppointmentSlot:
    try:
        return AppointmentSlot.objects.get(external_id=external_id)
    except AppointmentSlot.DoesNotExist as exc:
        raise Http404 from exc


class SlotBlockApi(APIView):
    """Block a free slot, or unblock it (DELETE)."""

    permission_classes = [IsAuthenticated, permission_required("scheduling.change_appointmentslot")]

    @extend_schema(
        operation_id="scheduling_slot_block",
        request=None,
        responses={200: SlotOutputSerializer, 400: OpenApiResponse(description="The slot is booked.")},
        description="Take a free slot out of booking.",
    )
    def post(self, request, external_id):
        slot = slot_block(slot=_slot_or_404(external_id), blocked_by=request.user)
        return Response(SlotOutputSerializer(slot).data)

    @extend_schema(operation_id="scheduling_slot_unblock", request=None, responses={200: SlotOutputSerializer})
    def delete(self, request, external_id):
        slot = slot_unblock(slot=_slot_or_404(external_id), unblocked_by=request.user)
        return Response(SlotOutputSerializer(slot).data)


class AppointmentsApi(APIView):
    """Book an appointment, or list a patient's appointments."""

    def get_permissions(self):
        perm = "scheduling.add_appointment" if self.request.method == "POST" else "scheduling.view_appointment"
        return [IsAuthenticated(), permission_required(perm)()]

    class AppointmentListQuerySerializer(serializers.Serializer):
        patient = serializers.UUIDField()

    class AppointmentBookInputSerializer(serializers.Serializer):
        slot = _slot_field()
        patient = serializers.UUIDField(help_text="External id of the patient.")
        reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="scheduling_appointment_list",
        parameters=[OpenApiParameter("patient", str, required=True, description="External id of the patient.")],
        responses={200: AppointmentOutputSerializer(many=True), 404: OpenApiResponse(description="Unknown patient.")},
        description="The patient's appointments, latest first. Access-logged.",
    )
    def get(self, request):
        query = self.AppointmentListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        patient = _visible_patient(request.user, query.validated_data["patient"])
        if patient is None:
            raise Http404
        return Response(
            AppointmentOutputSerializer(patient_appointments(patient=patient, fetched_by=request.user), many=True).data
        )

    @extend_schema(
        operation_id="scheduling_appointment_book",
        request=AppointmentBookInputSerializer,
        responses={
            201: AppointmentOutputSerializer,
            400: OpenApiResponse(description="Slot in the past or blocked, unknown patient; nothing written."),
            409: SLOT_TAKEN_409,
        },
        description="Book a slot for a patient whom the signed-in user may see. One live booking per slot "
        "(database constraint): concurrent bookers get exactly one 201 and 409 slot_taken for the rest.",
    )
    def post(self, request):
        serializer = self.AppointmentBookInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        patient = _visible_patient(request.user, data["patient"])
        if patient is None:
            raise serializers.ValidationError({"patient": [_("No patient with this id among those you may see.")]})
        try:
            appointment = appointment_book(
                slot=data["slot"], patient=patient, booked_by=request.user, reason=data["reason"]
            )
        except SlotTaken as exc:
            return _slot_taken_response(exc)
        return _appointment_response(appointment, status.HTTP_201_CREATED)


def _visible_patient(user, external_id) -> Patient | None:
    # Booking and listing reveal who the patient is: the same scope as patient search.
    return patients_visible_to(user, PURPOSE_METADATA).filter(external_id=external_id).first()


def _appointment_or_404(external_id) -> Appointment:
    try:
        return appointment_get(external_id=external_id)
    except Appointment.DoesNotExist as exc:
        raise Http404 from exc


class AppointmentCancelApi(APIView):
    permission_classes = [IsAuthenticated, permission_required("scheduling.change_appointment")]

    class AppointmentCancelInputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="scheduling_appointment_cancel",
        request=AppointmentCancelInputSerializer,
        responses={200: AppointmentOutputSerializer, 400: OpenApiResponse(description="Not booked or checked in.")},
        description="Cancel a booked or checked-in appointment; its slot becomes free. Access-logged.",
    )
    def post(self, request, external_id):
        serializer = self.AppointmentCancelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appointment = appointment_cancel(
            appointment=_appointment_or_404(external_id),
            cancelled_by=request.user,
            reason=serializer.validated_data["reason"],
        )
        return _appointment_response(appointment)


class AppointmentRescheduleApi(APIView):
    permission_classes = [IsAuthenticated, permission_required("scheduling.change_appointment")]

    class AppointmentRescheduleInputSerializer(serializers.Serializer):
        slot = _slot_field()

    @extend_schema(
        operation_id="scheduling_appointment_reschedule",
        request=AppointmentRescheduleInputSerializer,
        responses={
            201: AppointmentOutputSerializer,
            400: OpenApiResponse(description="Not booked or checked in, or the new slot is past/blocked/the same."),
            409: SLOT_TAKEN_409,
        },
        description="Cancel this appointment and book the new slot, linked by rescheduled_from: both or neither "
        "(a taken slot leaves the appointment unchanged). Returns the new appointment.",
    )
    def post(self, request, external_id):
        appointment = _appointment_or_404(external_id)
        serializer = self.AppointmentRescheduleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            new = appointment_reschedule(
                appointment=appointment, new_slot=serializer.validated_data["slot"], rescheduled_by=request.user
            )
        except SlotTaken as exc:
            return _slot_taken_response(exc)
        return _appointment_response(new, status.HTTP_201_CREATED)


# Each service names its actor differently (checked_in_by, called_by...): the view passes it by that name.
TRANSITIONS: dict[str, tuple[Callable[..., Appointment], str, str]] = {
    "check-in": (appointment_check_in, "checked_in_by", "Booked -> checked in (the day of the slot only)."),
    "call": (appointment_call, "called_by", "Checked in -> called."),
    "seen": (
        appointment_mark_seen,
        "seen_by",
        "Checked in or called -> seen; starts (or links) an outpatient encounter with the slot's clinician "
        "attending, which opens the chart to them.",
    ),
    "no-show": (appointment_no_show, "marked_by", "Booked, slot started -> no-show (frees the slot)."),
}


def _transition_view(action: str) -> type[APIView]:
    service, actor_kwarg, description = TRANSITIONS[action]

    class AppointmentTransitionApi(APIView):
        permission_classes = [IsAuthenticated, permission_required("scheduling.change_appointment")]

        @extend_schema(
            operation_id=f"scheduling_appointment_{action.replace('-', '_')}",
            request=None,
            responses={
                200: AppointmentOutputSerializer,
                400: OpenApiResponse(description="Not allowed from the current status; nothing changed."),
                404: OpenApiResponse(description="No appointment with this external id."),
            },
            description=description + " Access-logged.",
        )
        def post(self, request, external_id):
            appointment = service(appointment=_appointment_or_404(external_id), **{actor_kwarg: request.user})
            return _appointment_response(appointment)

    AppointmentTransitionApi.__name__ = f"Appointment{action.title().replace('-', '')}Api"
    return AppointmentTransitionApi


class ClinicQueueApi(APIView):
    """The day's outpatient queue of one clinician."""

    permission_classes = [IsAuthenticated, permission_required("scheduling.view_appointment")]

    class ClinicQueueQuerySerializer(serializers.Serializer):
        clinician = _clinician_field(required=False)
        day = serializers.DateField(required=False)

    @extend_schema(
        operation_id="scheduling_clinic_queue",
        parameters=[
            OpenApiParameter("clinician", str, description=USER_REF_HELP + " Default: the signed-in user."),
            OpenApiParameter("day", str, description="YYYY-MM-DD; default today."),
        ],
        responses={200: AppointmentOutputSerializer(many=True)},
        description="Live appointments of the day in queue order: called, checked in (by arrival), booked (by slot "
        "time), seen. Access-logged once.",
    )
    def get(self, request):
        serializer = self.ClinicQueueQuerySerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        clinician = data.get("clinician") or request.user
        queue = clinic_queue(clinician=clinician, day=data.get("day") or timezone.localdate(), fetched_by=request.user)
        for appointment in queue:
            appointment.slot.clinician = clinician  # already known: no query per row
        return Response(AppointmentOutputSerializer(queue, many=True).data)


urlpatterns = [
    path("slots/", SlotsGenerateApi.as_view(), name="scheduling-slots-generate"),
    path("slots/free/", FreeSlotsApi.as_view(), name="scheduling-slots-free"),
    path("slots/<uuid:external_id>/block/", SlotBlockApi.as_view(), name="scheduling-slot-block"),
    path("appointments/", AppointmentsApi.as_view(), name="scheduling-appointments"),
    path("appointments/queue/", ClinicQueueApi.as_view(), name="scheduling-clinic-queue"),
    path(
        "appointments/<uuid:external_id>/cancel/", AppointmentCancelApi.as_view(), name="scheduling-appointment-cancel"
    ),
    path(
        "appointments/<uuid:external_id>/reschedule/",
        AppointmentRescheduleApi.as_view(),
        name="scheduling-appointment-reschedule",
    ),
    *(
        path(
            f"appointments/<uuid:external_id>/{action}/",
            _transition_view(action).as_view(),
            name=f"scheduling-appointment-{action}",
        )
        for action in TRANSITIONS
    ),
]
