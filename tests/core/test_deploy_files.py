"""The production-shaped deployment files say what the platform promises (no Docker engine needed to check)."""

import re
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "beat")


def _without_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def nginx_conf() -> str:
    return _without_comments((BASE_DIR / "deploy/nginx/nginx.conf").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    text = (BASE_DIR / "Dockerfile").read_text().replace("\\\n", " ")
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def test_compose_has_the_seven_services(compose):
    assert set(compose["services"]) == {"postgres", "redis", "migrate", "web", "worker", "beat", "nginx"}


def test_postgres_and_redis_keep_data_and_report_health(compose):
    postgres, redis = compose["services"]["postgres"], compose["services"]["redis"]
    assert postgres["image"].startswith("postgres:16")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert redis["image"].startswith("redis:7")
    assert "--appendonly yes" in _command(redis)
    assert any(v.endswith(":/data") for v in redis["volumes"])
    assert "ping" in " ".join(redis["healthcheck"]["test"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_application_services_run_in_production_mode_from_the_env_file(compose, name):
    service = compose["services"][name]
    assert service["build"] == "."
    assert service["env_file"] == ".env"
    assert service["environment"]["HOSPITAL_MODE"] == "production"
    assert service["environment"]["DATABASE_URL"].split("@")[1] == "postgres:5432/hospital"
    assert service["environment"]["REDIS_URL"].startswith("redis://redis:6379/")


def test_web_starts_after_migrations_and_healthy_backing_services(compose):
    web = compose["services"]["web"]
    assert _command(web).startswith("gunicorn hospital.wsgi:application")
    assert web["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert "/healthz" in " ".join(web["healthcheck"]["test"])
    assert "ports" not in web, "only nginx is published"
    assert "manage.py migrate" in _command(compose["services"]["migrate"])
    assert compose["services"]["migrate"].get("restart") == "no"


def test_worker_serves_all_queues_one_task_at_a_time_and_beat_schedules(compose):
    worker = _command(compose["services"]["worker"])
    assert "celery --app=hospital worker" in worker
    assert "--queues=default,ai,alerts" in worker
    assert "--prefetch-multiplier=1" in worker
    assert "celery --app=hospital beat" in _command(compose["services"]["beat"])


def test_nginx_serves_the_collected_static_files_and_the_certificates(compose):
    nginx = compose["services"]["nginx"]
    assert nginx["image"].startswith("nginx:1.27")
    assert "./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    assert "./deploy/certs:/etc/nginx/certs:ro" in nginx["volumes"]
    static_volume = next(v.split(":")[0] for v in nginx["volumes"] if v.split(":")[1] == "/srv/static")
    migrate_mounts = {v.split(":")[0]: v.split(":")[1] for v in compose["services"]["migrate"]["volumes"]}
    assert migrate_mounts[static_volume] == "/srv/static"
    assert "STATIC_ROOT=/srv/static python manage.py collectstatic" in _command(compose["services"]["migrate"])
    assert {p.rsplit(":", 1)[1] for p in nginx["ports"]} == {"80", "443"}


def test_nginx_speaks_tls_13_only(nginx_conf):
    assert re.findall(r"ssl_protocols[^;]*;", nginx_conf) == ["ssl_protocols TLSv1.3;"]
    assert not re.search(r"TLSv1(\.[012])?\b(?!\.3)|SSLv", nginx_conf.replace("TLSv1.3", ""))
    assert re.search(r"listen 443 ssl", nginx_conf)


def test_nginx_uses_the_certificate_that_make_cert_creates(nginx_conf):
    makefile = (BASE_DIR / "Makefile").read_text()
    assert "-keyout deploy/certs/server.key -out deploy/certs/server.crt" in makefile
    assert "ssl_certificate /etc/nginx/certs/server.crt;" in nginx_conf
    assert "ssl_certificate_key /etc/nginx/certs/server.key;" in nginx_conf
    assert "deploy/certs/" in (BASE_DIR / ".gitignore").read_text().split()


def test_nginx_redirects_http_and_sends_security_headers(nginx_conf):
    port_80 = nginx_conf.split("listen 80", 1)[1].split("server {", 1)[0]
    assert "return 301 https://$host$request_uri;" in port_80
    hsts = r'add_header Strict-Transport-Security "max-age=\d{8,}; includeSubDomains[^"]*" always;'
    assert re.search(hsts, nginx_conf)
    for header in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
        assert f"add_header {header} " in nginx_conf
    assert "client_max_body_size 100m;" in nginx_conf


def test_nginx_forwards_scheme_and_an_unspoofable_client_address(nginx_conf):
    assert "proxy_pass http://hospital_web;" in nginx_conf
    assert "server web:8000;" in nginx_conf
    assert "proxy_set_header X-Forwarded-Proto https;" in nginx_conf
    # The application trusts the first X-Forwarded-For hop, so nginx must replace, not append to, the client's.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx_conf
    assert "$proxy_add_x_forwarded_for" not in nginx_conf
    assert "location /static/" in nginx_conf and "alias /srv/static/;" in nginx_conf


def test_dockerfile_builds_a_slim_non_root_gunicorn_image(dockerfile):
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.M)
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users, "the image must name a user"
    assert users[-1].split(":")[0] not in {"root", "0"}
    cmd = re.findall(r"^CMD\s+(.*)$", dockerfile, re.M)
    assert cmd and '"gunicorn", "hospital.wsgi:application"' in cmd[-1]
    assert "['project']['dependencies']" in dockerfile, "dependencies come from pyproject.toml"
    assert "pip install -r" in dockerfile
    assert re.search(r"^RUN .*manage\.py collectstatic --noinput", dockerfile, re.M)


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = set((BASE_DIR / ".dockerignore").read_text().split())
    assert {".env", ".venv", "var", ".git", "deploy/certs"} <= ignored
