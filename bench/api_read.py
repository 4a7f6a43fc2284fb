"""Requests per second of an authenticated API read of one patient, with and without the access log.

GET /api/v1/emr/patients/<uuid>/ with a treating doctor's API token, through the whole Django
stack (middleware, DRF authentication and permissions, the selector, serialisation) against a real
PostgreSQL. "With" is the platform as shipped: every read appends a hash-chained access-log entry.
"Without" replaces the selector's recorder with a no-op, in this bench's processes only.

The bench creates a throwaway database next to DATABASE_URL's (bench_api_read_<pid>), migrates it,
loads 1,000 patients, and drops it at the end. Variants alternate round by round so drift hits both.

    python bench/api_read.py [--requests 400] [--rounds 5] [--gunicorn-requests 500] [--no-gunicorn]

`make bench` runs it against the test profile's embedded PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BASE_DIR))
from _machine import machine_line, table  # noqa: E402

RECORDER = "emr.selectors.patients.access_log_record"  # the name the patient selector calls
VARIANTS = ("with access log", "without access log")


# --- the throwaway database ----------------------------------------------------------------------
@contextmanager
def throwaway_database(base_url: str):
    import psycopg2

    parts = urlsplit(base_url)
    name = f"bench_api_read_{os.getpid()}"
    admin = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": parts.username or "postgres",
        "password": parts.password or "",
        "dbname": "postgres",
    }

    def execute(sql: str) -> None:
        conn = psycopg2.connect(**admin)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
        conn.close()

    execute(f'DROP DATABASE IF EXISTS "{name}"')
    execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        from django.db import connections

        connections.close_all()
        execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare_data() -> tuple[str, str]:
    """Migrate, create 1,000 patients and a doctor who treats one of them, with an API token.

    Return (token, that patient's path). A doctor rather than an integration client: patient reads are
    scoped to the clinicians who treat the patient.
    """
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.urls import reverse
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from emr.models import CareTeamMember, Encounter, Patient
    from hospital.core import roles
    from hospital.core.models import User

    call_command("migrate", verbosity=0, interactive=False)
    doctor = User.objects.create_user(username="bench.doctor", password=None, display_name="Bench doctor")
    doctor.groups.add(Group.objects.get(name=roles.DOCTOR))
    token = Token.objects.create(user=doctor).key
    rng = random.Random(7)
    Patient.objects.bulk_create(
        Patient(
            family_name=rng.choice(["Wang", "Li", "Zhang", "Smith", "Chen", "Liu"]),
            given_name=f"Patient {i}",
            sex=rng.choice(["female", "male"]),
            birth_date=date(1940 + i % 80, 1 + i % 12, 1 + i % 28),
        )
        for i in range(1000)
    )
    patient = Patient.objects.order_by("id")[500]
    encounter = Encounter.objects.create(
        patient=patient, encounter_class="outpatient", started_at=timezone.now(), attending=doctor
    )
    CareTeamMember.objects.create(encounter=encounter, user=doctor, role="attending")
    return token, reverse("emr-patient-detail", kwargs={"external_id": patient.external_id})


def access_log_rows() -> int:
    from hospital.core.models import AccessLog

    return AccessLog.objects.count()


@contextmanager
def variant(name: str):
    if name == VARIANTS[0]:
        yield
    else:
        with mock.patch(RECORDER, lambda **_kwargs: None):
            yield


# --- in process: django.test.Client --------------------------------------------------------------
def run_in_process(token: str, path: str, requests: int, rounds: int) -> dict[str, dict]:
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    results = {name: {"rps": [], "logged": 0, "requests": 0} for name in VARIANTS}
    for name in VARIANTS:  # warm-up: caches, connections, code paths
        with variant(name):
            for _ in range(50):
                assert client.get(path).status_code == 200
    for round_no in range(rounds):
        order = VARIANTS if round_no % 2 == 0 else VARIANTS[::-1]
        for name in order:
            before = access_log_rows()
            with variant(name):
                started = time.perf_counter()
                for _ in range(requests):
                    response = client.get(path)
                    if response.status_code != 200:
                        raise RuntimeError(f"{name}: {response.status_code} {response.content[:300]!r}")
                elapsed = time.perf_counter() - started
            results[name]["rps"].append(requests / elapsed)
            results[name]["logged"] += access_log_rows() - before
            results[name]["requests"] += requests
    return results


# --- over loopback: gunicorn ---------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(app: str, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"), app, "--pythonpath", str(BENCH_DIR),
            "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4", "--log-level", "warning",
        ],
        cwd=BASE_DIR, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn ({app}) exited with status {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"gunicorn ({app}) did not listen within 60 s")


def hammer(port: int, path: str, token: str, requests: int, concurrency: int) -> float:
    """Send `requests` GETs over `concurrency` keep-alive connections; return requests per second."""
    errors: list[str] = []
    per_thread = [requests // concurrency + (1 if i < requests % concurrency else 0) for i in range(concurrency)]
    headers = {"Authorization": f"Token {token}", "Host": "localhost"}

    def worker(count: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for _ in range(count):
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors.append(f"status {response.status}")
                    return
        except OSError as exc:  # a failed request must fail the bench, not inflate its figure
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(count,)) for count in per_thread]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"gunicorn request failed: {errors[0]}")
    return requests / elapsed


def run_gunicorn(token: str, path: str, database_url: str, requests: int, rounds: int, concurrency: int) -> dict:
    env = dict(os.environ, DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="hospital.settings")
    apps = {VARIANTS[0]: "hospital.wsgi:application", VARIANTS[1]: "wsgi_without_access_log:application"}
    servers = {name: start_gunicorn(app, env) for name, app in apps.items()}
    results = {name: {"rps": [], "logged": 0, "requests": 0} for name in VARIANTS}
    try:
        for _name, (_proc, port) in servers.items():
            hammer(port, path, token, 100, concurrency)  # warm-up
        for round_no in range(rounds):
            order = VARIANTS if round_no % 2 == 0 else VARIANTS[::-1]
            for name in order:
                before = access_log_rows()
                results[name]["rps"].append(hammer(servers[name][1], path, token, requests, concurrency))
                results[name]["logged"] += access_log_rows() - before
                results[name]["requests"] += requests
    finally:
        for proc, _port in servers.values():
            proc.terminate()
        for proc, _port in servers.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    return results


def result_rows(how: str, results: dict) -> list[tuple[str, ...]]:
    rows = []
    for name in VARIANTS:
        r = results[name]
        rows.append(
            (
                how,
                name,
                f"{len(r['rps'])} x {r['requests'] // max(len(r['rps']), 1)}",
                f"{statistics.median(r['rps']):.0f}",
                f"{min(r['rps']):.0f}-{max(r['rps']):.0f}",
                f"{r['logged'] / r['requests']:.2f}",
            )
        )
    ratio = statistics.median(results[VARIANTS[0]]["rps"]) / statistics.median(results[VARIANTS[1]]["rps"])
    rows.append((how, "with / without", "", f"{ratio:.2f}", "", ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per round, in process (default 400)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per variant (default 5)")
    parser.add_argument("--gunicorn-requests", type=int, default=500, help="requests per round over gunicorn")
    parser.add_argument("--gunicorn-rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4, help="keep-alive connections to gunicorn")
    parser.add_argument("--no-gunicorn", action="store_true", help="measure in process only")
    args = parser.parse_args(argv)

    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        sys.exit("DATABASE_URL is unset: run `make bench`, or point it at a PostgreSQL that lets you create databases.")
    os.environ["DJANGO_SETTINGS_MODULE"] = "hospital.settings"
    os.environ["DEBUG"] = "False"  # DEBUG keeps every query in memory; production never runs with it
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    with throwaway_database(base_url) as database_url:
        os.environ["DATABASE_URL"] = database_url
        import django

        django.setup()
        token, path = prepare_data()
        rows = [("how", "variant", "rounds x requests", "median rps", "range rps", "log entries / request")]
        rows += result_rows("in process", run_in_process(token, path, args.requests, args.rounds))
        if not args.no_gunicorn:
            results = run_gunicorn(
                token, path, database_url, args.gunicorn_requests, args.gunicorn_rounds, args.concurrency
            )
            rows += result_rows(f"gunicorn 2x4, {args.concurrency} conns", results)

    print("API read: GET /api/v1/emr/patients/<uuid>/ with a treating doctor's token (DRF TokenAuthentication),")
    print("one patient out of 1,000, DEBUG off, real PostgreSQL (throwaway database); the 'without' variant")
    print(f"patches {RECORDER} to a no-op in the bench's processes only.")
    print(f"command: python bench/api_read.py {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    print(table(rows))
    print(machine_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
