"""Production mode: refuses to start without its secrets, names what is missing, passes Django's deploy checks.

Each case starts a fresh interpreter, because settings are read once per process.
"""

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
REQUIRED = ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY")
SETUP = "import django; django.setup()"


def _keyring_new() -> str:
    out = subprocess.run(
        [sys.executable, "-m", "hospital.core.keyring", "new"], cwd=BASE_DIR, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


@pytest.fixture(scope="module")
def production_secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": f"1:{_keyring_new()}",
        "BLIND_INDEX_KEY": _keyring_new(),
    }


@pytest.fixture
def production_env(tmp_path, production_secrets) -> dict[str, str]:
    # The browser fixtures allow Django's ORM under Playwright's event loop; a production process must not inherit that.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        production_secrets,
        DJANGO_SETTINGS_MODULE="hospital.settings",
        HOSPITAL_MODE="production",
        ALLOWED_HOSTS="hospital.example.org",
        HOSPITAL_VAR_DIR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "static"),
        FIELD_ENCRYPTION_KEY_FILE="",
    )
    env.pop("DEBUG", None)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)


def _named_as_missing(stderr: str) -> set[str]:
    match = re.search(r"Production mode refuses to start: missing ([A-Z_, ]+)\.", stderr)
    assert match, f"no 'missing ...' message in:\n{stderr[-2000:]}"
    return {name.strip() for name in match.group(1).split(",")}


@pytest.mark.parametrize(
    "missing",
    [("SECRET_KEY",), ("FIELD_ENCRYPTION_KEYS",), ("BLIND_INDEX_KEY",), ("SECRET_KEY", "BLIND_INDEX_KEY"), REQUIRED],
)
def test_production_refuses_to_start_and_names_exactly_what_is_missing(production_env, missing):
    # An empty value counts as missing, and also keeps a developer's .env file from filling the gap.
    env = dict(production_env, **dict.fromkeys(missing, ""))
    result = _run([sys.executable, "-c", SETUP], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert _named_as_missing(result.stderr) == set(missing)


def test_a_key_file_stands_in_for_the_key_ring(production_env, production_secrets, tmp_path):
    key_file = tmp_path / "field-keys"
    key_file.write_text(production_secrets["FIELD_ENCRYPTION_KEYS"] + "\n")
    env = dict(production_env, FIELD_ENCRYPTION_KEYS="", FIELD_ENCRYPTION_KEY_FILE=str(key_file))
    code = f"{SETUP}; from django.conf import settings; print(sorted(settings.FIELD_ENCRYPTION_KEYS))"
    result = _run([sys.executable, "-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[1]"


def test_a_malformed_key_ring_is_refused(production_env):
    short_key = base64.b64encode(b"sixteen bytes!!!").decode()
    result = _run([sys.executable, "-c", SETUP], dict(production_env, FIELD_ENCRYPTION_KEYS=f"1:{short_key}"))
    assert result.returncode != 0
    assert "must be 32 bytes" in result.stderr


def test_an_unknown_mode_is_refused(production_env):
    result = _run([sys.executable, "-c", SETUP], dict(production_env, HOSPITAL_MODE="staging"))
    assert result.returncode != 0
    assert "HOSPITAL_MODE must be 'development' or 'production'" in result.stderr


def test_production_mode_is_hardened(production_env):
    code = (
        f"{SETUP}; from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_PROXY_SSL_HEADER)"
    )
    result = _run([sys.executable, "-c", code], production_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False True True True ('HTTP_X_FORWARDED_PROTO', 'https')"


def test_deploy_checks_pass_in_production_mode(production_env):
    result = _run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_checks_catch_a_weak_secret_key(production_env):
    # The same command fails when a deploy check has something to say, so the passing case means something.
    result = _run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        dict(production_env, SECRET_KEY="short"),
    )
    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout
