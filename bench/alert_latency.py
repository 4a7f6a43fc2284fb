"""Seconds from posting a vital-sign set that scores NEWS2 7 to its alert row existing, with a live Celery worker.

The issue asks for an alert for the ward within one second. The bench creates a throwaway database next to
DATABASE_URL's, migrates it, makes a ward with its nurse (an API token) and N inpatients, and starts a real
`celery worker` on that database and on REDIS_URL, as `make run` starts it (queues default, ai, alerts;
prefork, concurrency 2). Then, one patient at a time, it POSTs a set scoring 7 (SpO2 85, respiratory rate 26,
pulse 95) to /api/v1/emr/patients/<id>/vitals/ through the whole Django stack in process (token
authentication, the EMR service, the access log, enqueue on commit: the NEWS2, conflict and drift tasks)
and polls the database every 2 ms until the patient's alert row exists. Each patient gets a fresh alert
(repeats of one patient would be merged into one). Prints p50 / p95 / max of the POST alone and of POST to
alert row (and the part after the 201, when the task is already on the queue), then stops the worker and
drops the database.

    python bench/alert_latency.py [--sets 50] [--concurrency 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BASE_DIR))
from _machine import machine_line, table  # noqa: E402
from api_read import throwaway_database  # noqa: E402

SET_SCORING_7 = {
    "respiratory_rate": 26,
    "spo2": 85,
    "supplemental_oxygen": False,
    "systolic_bp": 120,
    "diastolic_bp": 70,
    "heart_rate": 95,
    "consciousness": "A",
    "temperature": "37.0",
}
POLL_SECONDS = 0.002
TIMEOUT_SECONDS = 30


def prepare(patients: int):
    """Migrate; a ward, its nurse with an API token, `patients` inpatients. Returns (token, [(patient, encounter)])."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from emr.services.encounters import encounter_start
    from hospital.core import roles
    from hospital.core.models import User
    from scheduling.models import Department, Ward
    from scheduling.services.rosters import ward_assignment_create

    call_command("migrate", verbosity=0, interactive=False)
    department = Department.objects.create(code="MED", name_en="Medicine", name_zh="内科", specialty="general_medicine")
    ward = Ward.objects.create(
        department=department,
        code="GM1",
        name_en="General medicine 1",
        name_zh="普内一病区",
        specialty="general_medicine",
    )
    nurse = User.objects.create_user(username="bench.nurse", password=None, display_name="Bench nurse")
    nurse.groups.add(Group.objects.get(name=roles.NURSE))
    doctor = User.objects.create_user(username="bench.doctor", password=None, display_name="Bench doctor")
    doctor.groups.add(Group.objects.get(name=roles.DOCTOR))
    ward_assignment_create(ward=ward, user=nurse, role="nurse", starts_on=timezone.localdate())
    from emr.models import Patient

    stays = []
    for i in range(patients):
        patient = Patient.objects.create(
            family_name="王", given_name=f"病人{i}", sex="female" if i % 2 else "male", birth_date="1950-03-02"
        )
        encounter = encounter_start(
            patient=patient, encounter_class="inpatient", attending=doctor, started_by=doctor, ward=ward
        )
        stays.append((patient, encounter))
    return Token.objects.create(user=nurse).key, stays


def start_worker(env: dict[str, str], concurrency: int) -> subprocess.Popen:
    from hospital.celery import app

    hostname = f"benchworker-{os.getpid()}@localhost"
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"), "-A", "hospital", "worker", "-Q", "default,ai,alerts",
            "--concurrency", str(concurrency), "--loglevel", "WARNING", "-n", hostname, "--without-mingle",
            "--without-gossip",
        ],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited with status {proc.returncode}")
        if app.control.ping(destination=[hostname], timeout=0.5):
            return proc
    proc.kill()
    raise RuntimeError("celery worker did not answer a ping within 90 s")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(share * len(ordered))) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=50, help="vital-sign sets to post (one patient each)")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (make run starts 2)")
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
        from django.conf import settings
        from django.db import connection
        from django.test import Client

        from ai.models import Alert

        token, stays = prepare(args.sets + 1)
        worker = start_worker(dict(os.environ, DATABASE_URL=url, REDIS_URL=settings.REDIS_URL), args.concurrency)
        try:
            client = Client(HTTP_AUTHORIZATION=f"Token {token}")
            post_ms, alert_ms, after_ms = [], [], []
            for index, (patient, encounter) in enumerate(stays):
                body = {**SET_SCORING_7, "encounter": str(encounter.external_id)}
                started = time.perf_counter()
                response = client.post(
                    f"/api/v1/emr/patients/{patient.external_id}/vitals/", body, content_type="application/json"
                )
                posted = time.perf_counter()
                if response.status_code != 201:
                    raise RuntimeError(f"POST failed: {response.status_code} {response.content[:300]!r}")
                while not Alert.objects.filter(patient=patient, kind="news2").exists():
                    if time.perf_counter() - started > TIMEOUT_SECONDS:
                        raise RuntimeError(f"no alert after {TIMEOUT_SECONDS} s")
                    time.sleep(POLL_SECONDS)
                done = time.perf_counter()
                if index == 0:
                    continue  # warm-up: the worker's first task imports and connects
                post_ms.append((posted - started) * 1000)
                alert_ms.append((done - started) * 1000)
                after_ms.append((done - posted) * 1000)
            alert = Alert.objects.filter(kind="news2").select_related("ward").first()
            assert alert is not None and alert.ward is not None and alert.severity == "critical"
            connection.close()
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
    under = sum(1 for value in alert_ms if value < 1000)
    print("Vital-sign set scoring NEWS2 7 -> alert row for the ward, with a live Celery worker")
    print(f"command: python bench/alert_latency.py --sets {args.sets} --concurrency {args.concurrency}")
    print(f"data: {args.sets} sets (one patient each, after 1 warm-up), POST through the API in process")
    print(
        table(
            [
                ("measure", "p50 ms", "p95 ms", "max ms", "under 1 s"),
                (
                    "POST /vitals/ (201)",
                    f"{statistics.median(post_ms):.1f}",
                    f"{percentile(post_ms, 0.95):.1f}",
                    f"{max(post_ms):.1f}",
                    "",
                ),
                (
                    "201 -> alert row (queue, worker)",
                    f"{statistics.median(after_ms):.1f}",
                    f"{percentile(after_ms, 0.95):.1f}",
                    f"{max(after_ms):.1f}",
                    "",
                ),
                (
                    "POST -> alert row",
                    f"{statistics.median(alert_ms):.1f}",
                    f"{percentile(alert_ms, 0.95):.1f}",
                    f"{max(alert_ms):.1f}",
                    f"{under}/{len(alert_ms)}",
                ),
            ]
        )
    )
    print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
