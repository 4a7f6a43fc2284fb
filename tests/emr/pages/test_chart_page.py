"""The chart page: one screen, scoped, access-logged, with a pinned number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from emr.models import BreakGlassAccess, Condition, Icd10Code, Observation, Patient
from emr.services.notes import note_create_draft, note_set_diagnoses, note_sign
from emr.services.observations import vital_signs_record
from hospital.core.models import AccessLog

pytestmark = pytest.mark.django_db


def _chart_url(patient):
    return f"/patients/{patient.external_id}/"


def _fill_chart(patient, encounter, doctor, *, sets: int, notes: int):
    now = timezone.now()
    for index in range(sets):
        vital_signs_record(
            patient=patient,
            recorded_by=doctor,
            encounter=encounter,
            taken_at=now - timedelta(hours=sets - index),
            heart_rate=70 + index,
            respiratory_rate=16,
            spo2=97,
            temperature=Decimal("37.1"),
            systolic_bp=120,
            diastolic_bp=80,
        )
    Observation.objects.create(
        patient=patient, encounter=encounter, category="laboratory", code="718-7", display="Haemoglobin",
        value_numeric=Decimal("92"), unit="g/L", reference_low=115, reference_high=150, flag="L",
        effective_at=now, recorded_by=doctor,
    )  # fmt: skip
    Condition.objects.create(patient=patient, encounter=encounter, icd10=Icd10Code.objects.get(code="J18.9"),
                             recorded_by=doctor)  # fmt: skip
    for index in range(notes):
        note = note_create_draft(
            encounter=encounter, author=doctor, note_type="outpatient", chief_complaint=f"Cough {index}"
        )
        note_set_diagnoses(note=note, diagnoses=[("J18.9", "confirmed")], set_by=doctor)
        note_sign(note=note, signed_by=doctor)


def test_the_treating_doctor_sees_the_whole_chart_and_one_read_is_logged(login, treating_doctor, patient, encounter):
    _fill_chart(patient, encounter, treating_doctor, sets=3, notes=2)
    client = login(treating_doctor)
    before = AccessLog.objects.count()

    response = client.get(_chart_url(patient))

    assert response.status_code == 200
    html = response.content.decode()
    assert "王芳" in html and patient.mrn in html
    assert "J18.9" in html  # the active problem and the notes' diagnoses
    assert 'data-testid="vitals-graph"' in html and "<polyline" in html
    assert "badge-warn" in html and "Low" in html  # the haemoglobin flag
    assert html.count('class="signed"') == 2  # the notes timeline
    assert AccessLog.objects.count() == before + 1
    entry = AccessLog.objects.latest("id")
    assert (entry.action, entry.actor_id, entry.patient_external_id) == (
        "read",
        treating_doctor.pk,
        patient.external_id,
    )
    assert entry.detail["sections"] == ["problems", "medications", "allergies", "vitals", "labs", "encounters", "notes"]
    assert entry.detail["via_break_glass"] is False


def test_the_number_of_queries_does_not_grow_with_the_record(
    login, treating_doctor, patient, encounter, django_assert_num_queries
):
    client = login(treating_doctor)
    _fill_chart(patient, encounter, treating_doctor, sets=1, notes=1)
    client.get(_chart_url(patient))  # warm the session and the permission cache
    with django_assert_num_queries(27) as small:
        assert client.get(_chart_url(patient)).status_code == 200

    _fill_chart(patient, encounter, treating_doctor, sets=6, notes=5)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(_chart_url(patient)).status_code == 200


def test_not_asked_and_no_known_allergies_look_different(login, treating_doctor, patient):
    client = login(treating_doctor)
    assert 'data-status="unknown"' in client.get(_chart_url(patient)).content.decode()
    Patient.objects.filter(pk=patient.pk).update(allergy_status="no_known_allergies")
    html = client.get(_chart_url(patient)).content.decode()
    assert 'data-status="no_known_allergies"' in html and "badge-ok" in html
    assert "badge-unknown" not in html


def test_a_nurse_of_another_ward_is_refused_until_she_breaks_the_glass(login, other_ward_nurse, patient):
    client = login(other_ward_nurse)

    refused = client.get(_chart_url(patient))
    assert refused.status_code == 403
    assert 'data-testid="break-glass-form"' in refused.content.decode()
    assert "Cough" not in refused.content.decode()  # no clinical content on the refusal page
    assert not AccessLog.objects.filter(action="read", patient_external_id=patient.external_id).exists()

    # a reason is required: nothing is granted without one
    short = client.post(
        f"/patients/{patient.external_id}/break-glass/", {"reason": "need", "next": _chart_url(patient)}
    )
    assert short.status_code == 403
    assert "errorlist" in short.content.decode()
    assert not BreakGlassAccess.objects.exists()

    granted = client.post(
        f"/patients/{patient.external_id}/break-glass/",
        {"reason": "Patient collapsed in the corridor", "next": _chart_url(patient)},
    )
    assert granted.status_code == 302 and granted["Location"] == _chart_url(patient)
    chart = client.get(_chart_url(patient))
    assert chart.status_code == 200
    html = chart.content.decode()
    until = timezone.localtime(BreakGlassAccess.objects.get().expires_at).strftime("%H:%M")
    assert 'data-testid="emergency-banner"' in html and f"Emergency access until {until}" in html
    actions = list(
        AccessLog.objects.filter(patient_external_id=patient.external_id, actor=other_ward_nurse)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["break_glass", "read"]
    assert AccessLog.objects.filter(action="read", actor=other_ward_nurse).get().detail["via_break_glass"] is True


def test_an_archivist_is_refused_without_a_break_glass_form(login, archivist, patient):
    response = login(archivist).get(_chart_url(patient))
    assert response.status_code == 403
    assert "break-glass-form" not in response.content.decode()
    assert (
        login(archivist)
        .post(f"/patients/{patient.external_id}/break-glass/", {"reason": "Just curious, really"})
        .status_code
        == 403
    )
    assert not BreakGlassAccess.objects.exists()


def test_an_unknown_patient_is_404(login, treating_doctor):
    assert login(treating_doctor).get("/patients/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_the_print_view_is_logged_as_a_print(login, treating_doctor, patient):
    response = login(treating_doctor).get(f"/patients/{patient.external_id}/print/")
    assert response.status_code == 200
    assert "@media print" not in response.content.decode()  # the print rules live in the stylesheet
    assert AccessLog.objects.filter(action="print", patient_external_id=patient.external_id).count() == 1
