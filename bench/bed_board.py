"""The bed board's server time and query count for 1,000 beds, and admissions per second through the API.

Creates a throwaway database next to DATABASE_URL's, migrates it, builds 40 wards of 25 beds (1,000 beds)
with about 80 % occupied, some beds cleaning or blocked, and 30 waiting bed requests, then:

- requests the bed board page (GET /beds/board/) as a bed manager through the whole Django stack in
  process (test client, session login, access-log entry), timing each request and counting its queries;
- polls the live fragment with the version it already has (the 204 an unchanged board answers);
- admits N patients one after the other through POST /api/v1/scheduling/admissions/ (token-less
  in-process API client, force-authenticated bed manager), and reports admissions per second.

Prints median / p95, the query counts and admissions per second, then drops the database.

    python bench/bed_board.py [--requests 30] [--admissions 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BASE_DIR))
from _machine import machine_line, table  # noqa: E402
from api_read import throwaway_database  # noqa: E402

WARDS = 40
BEDS_PER_WARD = 25
OCCUPIED_SHARE = 0.8
SPECIALTIES = ("general_medicine", "cardiology", "respiratory", "general_surgery", "orthopaedics")


def build_hospital(admissions: int):
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
    from django.utils import timezone

    from emr.models import Encounter, Patient
    from hospital.core.models import User
    from scheduling.models import Bed, BedBlock, BedCleaning, BedRequest, BedStay, Department, Ward

    call_command("migrate", verbosity=0)
    manager = User.objects.create_user("bench.beds", password="bench-password-2026")  # noqa: S106
    manager.groups.add(Group.objects.get(name="bed_manager"))
    doctor = User.objects.create_user("bench.doctor", password="bench-password-2026")  # noqa: S106
    doctor.groups.add(Group.objects.get(name="doctor"))
    now = timezone.now()
    departments = {s: Department.objects.create(code=s[:20], name_en=s, name_zh="科", specialty=s) for s in SPECIALTIES}
    wards = Ward.objects.bulk_create(
        Ward(
            department=departments[SPECIALTIES[i % len(SPECIALTIES)]],
            code=f"W{i:02d}",
            name_en=f"Ward {i:02d}",
            name_zh=f"{i:02d}病区",
            specialty=SPECIALTIES[i % len(SPECIALTIES)],
            sex_policy=("mixed", "female", "male")[i % 3],
        )  # fmt: skip
        for i in range(WARDS)
    )
    beds = Bed.objects.bulk_create(
        Bed(ward=ward, code=f"{n:02d}") for ward in wards for n in range(1, BEDS_PER_WARD + 1)
    )
    occupied = [bed for index, bed in enumerate(beds) if index % 10 < OCCUPIED_SHARE * 10]
    rest = [bed for bed in beds if bed not in set(occupied)]
    patients = Patient.objects.bulk_create(
        Patient(family_name=f"Fam{i}", given_name=f"Giv{i}", sex=("female", "male")[i % 2], birth_date="1960-01-01")
        for i in range(len(occupied) + admissions + 30)
    )
    encounters = Encounter.objects.bulk_create(
        Encounter(
            patient=patients[i],
            encounter_class="inpatient",
            started_at=now - timedelta(days=3),
            ward=bed.ward,
            attending=doctor,
        )  # fmt: skip
        for i, bed in enumerate(occupied)
    )
    BedStay.objects.bulk_create(
        BedStay(
            bed=bed,
            encounter=encounter,
            period=DateTimeTZRange(now - timedelta(days=2), None),
            expected_discharge_on=(now + timedelta(days=2)).date(),
            started_by=manager,
        )  # fmt: skip
        for bed, encounter in zip(occupied, encounters, strict=True)
    )
    BedCleaning.objects.bulk_create(BedCleaning(bed=bed, requested_at=now) for bed in rest[::5])
    BedBlock.objects.bulk_create(
        BedBlock(
            bed=bed, period=DateTimeTZRange(now - timedelta(hours=1), None), reason="maintenance", created_by=manager
        )  # fmt: skip
        for bed in rest[1::10]
    )
    BedRequest.objects.bulk_create(
        BedRequest(
            patient=patients[len(occupied) + admissions + i],
            source="emergency",
            priority=1 + i % 5,
            specialty=SPECIALTIES[i % len(SPECIALTIES)],
            needed_from=now,
            requested_by=doctor,
        )  # fmt: skip
        for i in range(30)
    )
    # The encounters to admit: inpatient, in progress, on the ward of a free bed.
    free = [bed for bed in rest if bed not in set(rest[::5]) | set(rest[1::10])]
    to_admit = Encounter.objects.bulk_create(
        Encounter(
            patient=patients[len(occupied) + i],
            encounter_class="inpatient",
            started_at=now - timedelta(hours=1),
            ward=bed.ward,
            attending=doctor,
        )  # fmt: skip
        for i, bed in enumerate(free[:admissions])
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return manager, list(zip(to_admit, free[:admissions], strict=True)), len(beds), len(occupied)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--admissions", type=int, default=100)
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
        from rest_framework.test import APIClient

        manager, to_admit, bed_count, occupied = build_hospital(args.admissions)
        client = Client()
        client.force_login(manager)
        path = "/beds/board/"
        assert client.get(path).status_code == 200
        timings = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        connection.queries_log.clear()  # building the data filled the log of a DEBUG run
        with CaptureQueriesContext(connection) as page_queries:
            client.get(path)

        live = client.get("/beds/board/live/", HTTP_HX_REQUEST="true")
        etag = live["ETag"]
        poll_timings = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get("/beds/board/live/", HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag)
            poll_timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 204
        with CaptureQueriesContext(connection) as poll_queries:
            client.get("/beds/board/live/", HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag)

        api = APIClient()
        api.force_authenticate(manager)
        started = time.perf_counter()
        for encounter, bed in to_admit:
            response = api.post(
                "/api/v1/scheduling/admissions/",
                {"encounter": str(encounter.external_id), "bed": str(bed.external_id)},
                format="json",
            )
            assert response.status_code == 201, response.content
        elapsed = time.perf_counter() - started
    rate = len(to_admit) / elapsed
    print("Bed board server time (in process, full Django stack, session login, access-log entry included)")
    print(f"command: python bench/bed_board.py --requests {args.requests} --admissions {args.admissions}")
    print(
        f"data: {WARDS} wards, {bed_count} beds, {occupied} occupied, some cleaning and blocked, 30 waiting requests "
        "(3 suggestions each)"
    )
    print(
        table(
            [
                ("measure", "median ms", "p95 ms", "queries"),
                (
                    "GET /beds/board/",
                    f"{statistics.median(timings):.1f}",
                    f"{_p95(timings):.1f}",
                    str(len(page_queries)),
                ),
                (
                    "GET /beds/board/live/ unchanged (204)",
                    f"{statistics.median(poll_timings):.1f}",
                    f"{_p95(poll_timings):.1f}",
                    str(len(poll_queries)),
                ),
            ]
        )
    )
    print(f"admissions through POST /api/v1/scheduling/admissions/, sequential: {len(to_admit)} in {elapsed:.2f} s "
          f"= {rate:.1f} admissions/s")  # fmt: skip
    print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
