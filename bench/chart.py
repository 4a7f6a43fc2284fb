"""The chart page's server time for a patient with 500 encounters and 5,000 observations.

Creates a throwaway database next to DATABASE_URL's, migrates it, builds one patient with 500 finished
encounters (the doctor attends them), 5,000 observations (vital-sign sets and lab results), 100 signed
notes with diagnoses, 20 problems, 5 allergies and 30 medication orders, then requests the chart page
(GET /patients/<id>/) through the whole Django stack in process (test client, session login), timing
each request and counting its queries. Prints median / p95 and the query count, then drops the database.

    python bench/chart.py [--requests 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BASE_DIR))
from _machine import machine_line, table  # noqa: E402
from api_read import throwaway_database  # noqa: E402

ENCOUNTERS = 500
OBSERVATIONS = 5000


def build_record():
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from emr.models import (
        Allergy,
        CareTeamMember,
        ClinicalNote,
        Condition,
        Encounter,
        Icd10Code,
        MedicationOrder,
        NoteDiagnosis,
        Observation,
        Patient,
    )
    from hospital.core.models import User
    from pharmacy.models import Drug

    call_command("migrate", verbosity=0)
    doctor = User.objects.create_user("bench.doctor", password="bench-password-2026")  # noqa: S106
    doctor.groups.add(Group.objects.get(name="doctor"))
    patient = Patient.objects.create(family_name="王", given_name="建国", sex="male", birth_date="1950-03-02")
    now = timezone.now()
    encounters = Encounter.objects.bulk_create(
        Encounter(
            patient=patient,
            encounter_class="outpatient",
            status="finished",
            attending=doctor,
            started_at=now - timedelta(days=i * 3 + 1),
            ended_at=now - timedelta(days=i * 3 + 1) + timedelta(hours=1),
        )  # fmt: skip
        for i in range(ENCOUNTERS)
    )
    CareTeamMember.objects.bulk_create(CareTeamMember(encounter=e, user=doctor, role="attending") for e in encounters)
    rows = []
    vitals = (
        ("heart_rate", 80, "/min"),
        ("respiratory_rate", 16, "/min"),
        ("spo2", 97, "%"),
        ("temperature", 36.8, "Cel"),
    )
    for i in range(OBSERVATIONS // 5):
        encounter = encounters[i % ENCOUNTERS]
        set_id = uuid.uuid4()
        for code, value, unit in vitals:
            rows.append(
                Observation(
                    patient=patient,
                    encounter=encounter,
                    category="vital_sign",
                    code=code,
                    unit=unit,
                    set_id=set_id,
                    value_numeric=Decimal(str(value)),
                    effective_at=encounter.started_at,
                    recorded_by=doctor,
                )  # fmt: skip
            )
        rows.append(
            Observation(
                patient=patient,
                encounter=encounter,
                category="laboratory",
                code="2823-3",
                display="Potassium",
                unit="mmol/L",
                value_numeric=Decimal("4.1"),
                reference_low=Decimal("3.5"),
                reference_high=Decimal("5.1"),
                flag="N",
                effective_at=encounter.started_at,
                recorded_by=doctor,
            )  # fmt: skip
        )
    Observation.objects.bulk_create(rows, batch_size=5000)
    codes = list(Icd10Code.objects.filter(is_leaf=True).order_by("code")[:20])
    Condition.objects.bulk_create(Condition(patient=patient, icd10=code, recorded_by=doctor) for code in codes)
    for index in range(5):
        Allergy.objects.create(patient=patient, substance=f"Substance {index}", recorded_by=doctor)
    drugs = list(Drug.objects.order_by("id")[:30])
    MedicationOrder.objects.bulk_create(
        MedicationOrder(
            patient=patient,
            drug=drug,
            dose=Decimal("1"),
            dose_unit="tablet",
            route="oral",
            frequency="qd",
            ordered_by=doctor,
            ordered_at=now,
        )  # fmt: skip
        for drug in drugs
    )
    notes = ClinicalNote.objects.bulk_create(
        ClinicalNote(
            patient=patient,
            encounter=encounters[i],
            author=doctor,
            thread=uuid.uuid4(),
            chief_complaint="胸痛三天",
            assessment="Stable angina.",
        )  # fmt: skip
        for i in range(100)
    )
    NoteDiagnosis.objects.bulk_create(NoteDiagnosis(note=note, icd10=codes[0]) for note in notes)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE emr_clinicalnote SET status = 'signed', signed_at = now(), signed_by_id = %s", [doctor.pk]
        )
        cursor.execute("ANALYZE")
    return doctor, patient


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hospital.settings")
    base_url = os.environ.get("DATABASE_URL") or ""
    if not base_url:
        from hospital.core.embedded import embedded_database_url

        base_url = embedded_database_url()
    with throwaway_database(base_url) as url:
        os.environ["DATABASE_URL"] = url
        import django

        django.setup()
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        doctor, patient = build_record()
        client = Client()
        client.force_login(doctor)
        path = f"/patients/{patient.external_id}/"
        assert client.get(path).status_code == 200
        timings = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
    timings.sort()
    p95 = timings[max(0, int(round(0.95 * len(timings))) - 1)]
    print("Chart page server time (in process, full Django stack, session login, access-log entry included)")
    print(f"command: python bench/chart.py --requests {args.requests}")
    print(f"data: 1 patient, {ENCOUNTERS} encounters, {OBSERVATIONS} observations, 100 signed notes")
    print(
        table(
            [
                ("measure", "median ms", "p95 ms", "queries"),
                ("GET /patients/<id>/", f"{statistics.median(timings):.1f}", f"{p95:.1f}", str(len(queries))),
            ]
        )
    )
    print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
