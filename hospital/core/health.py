"""Readiness of the platform's parts, for /healthz and `make run`."""

import time

import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from hospital.celery import app as celery_app


def _timed(check):
    started = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as exc:  # noqa: BLE001 - a health check reports any failure instead of raising
        detail, ok = f"{type(exc).__name__}: {exc}", False
    return {"ok": ok, "detail": detail, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database():
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return "reachable"


def _redis():
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return "reachable"


def _worker():
    replies = celery_app.control.ping(timeout=1.0, limit=1)
    if not replies:
        raise RuntimeError("no Celery worker answered within 1 s")
    return sorted(name for reply in replies for name in reply)


def _migrations():
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise RuntimeError(
            f"{len(plan)} migrations not applied: " + ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        )
    return "none pending"


def health_report() -> dict:
    """Check database, Redis, a live worker and pending migrations; `ok` only when all pass."""
    checks = {"database": _timed(_database), "redis": _timed(_redis)}
    checks["migrations"] = _timed(_migrations) if checks["database"]["ok"] else {"ok": False, "detail": "database down"}
    checks["worker"] = _timed(_worker) if checks["redis"]["ok"] else {"ok": False, "detail": "broker down"}
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks}


_recent: dict = {"at": 0.0, "report": None}


def health_report_recent(max_age: float = 10.0) -> dict:
    """health_report(), reused for `max_age` seconds within this process (for pages that poll it)."""
    now = time.monotonic()
    if _recent["report"] is None or now - _recent["at"] > max_age:
        _recent["report"], _recent["at"] = health_report(), now
    return _recent["report"]
