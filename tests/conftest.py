"""Fixtures shared by the whole suite: users, API clients, a real Celery worker, a real browser."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import TEST_PASSWORD, UserFactory

BASE_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture
def user_factory(db):
    return UserFactory


@pytest.fixture
def doctor(db):
    return UserFactory(username="doctor1", roles=["doctor"])


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def doctor_api(api_client, doctor):
    api_client.force_authenticate(doctor)
    return api_client


@pytest.fixture
def password():
    return TEST_PASSWORD


def _test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real `celery worker` process on the test database and the test Redis (all three queues).

    Needs transactional_db: the worker is another process and only sees committed rows.
    """
    env = dict(os.environ, DATABASE_URL=_test_database_url(), REDIS_URL=settings.REDIS_URL)
    hostname = f"testworker-{os.getpid()}-{time.monotonic_ns()}@localhost"
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"), "-A", "hospital", "worker", "-Q", "default,ai,alerts",
            "--concurrency", "1", "--pool", "solo", "--loglevel", "WARNING", "-n", hostname, "--without-mingle",
            "--without-gossip",
        ],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    from hospital.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"celery worker exited during start-up:\n{proc.stdout.read()}")
        if app.control.ping(destination=[hostname], timeout=0.5):
            break
    else:
        proc.kill()
        pytest.fail("celery worker did not answer a ping within 60 s")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (no browser download)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is not installed (apt-get install chromium); .ci/run installs it.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )  # fmt: skip
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_access_log_guard():
    """Let transactional tests empty the access log between tests.

    Django empties tables after a transactional test with one TRUNCATE, which the access log's
    append-only trigger refuses. The flush runs in its own transaction; SET LOCAL
    session_replication_role = replica (superuser only, as the test database user is) skips
    triggers for that transaction alone.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        if "core_accesslog" in tables:
            statements = ["SET LOCAL session_replication_role = replica", *statements]
        return statements

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


@pytest.fixture(autouse=True)
def _fresh_health_report():
    """Pages reuse a recent health report for a few seconds; each test starts without one."""
    from hospital.core import health

    health._recent.update(at=0.0, report=None)


@pytest.fixture
def icd10_codes(db):
    """The ICD-10 classification, reloaded if a transactional test emptied the table (flush keeps no data)."""
    from tests.emr.test_clinical_support import ensure_icd10

    ensure_icd10()
