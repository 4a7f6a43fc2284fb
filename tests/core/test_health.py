"""/healthz against the real database, Redis and a real Celery worker."""

import pytest
from django.test import override_settings


@pytest.mark.worker
def test_healthz_green_with_live_worker(client, celery_worker_process):
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 200, body
    assert body["ok"] is True
    assert set(body["checks"]) == {"database", "redis", "worker", "migrations"}
    assert all(check["ok"] for check in body["checks"].values())
    assert any(name.startswith("testworker-") for name in body["checks"]["worker"]["detail"])


def test_healthz_reports_missing_worker_with_503(client, transactional_db):
    # No worker process runs in this test.
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body["ok"] is False
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_healthz_reports_redis_down(client, db):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["worker"] == {"ok": False, "detail": "broker down"}


def test_healthz_reports_pending_migrations(client, db, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [(_FakeMigration(), False)])
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["migrations"]["ok"] is False
    assert "emr.9999_pending" in body["checks"]["migrations"]["detail"]


class _FakeMigration:
    app_label = "emr"
    name = "9999_pending"
