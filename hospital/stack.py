"""`make run`: the whole platform in one terminal.

Starts embedded PostgreSQL and Redis when DATABASE_URL / REDIS_URL are unset, migrates, loads the
demo hospital once, then runs the web server (gunicorn), a Celery worker and Celery beat. It waits
for /healthz to turn green, prints the URL and the demo logins, and on Ctrl-C stops everything it
started, children first, then the embedded services.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from hospital.core import embedded
from hospital.demo.accounts import demo_logins_text

BASE_DIR = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def _wait_healthy(url: str, timeout: float, children: dict[str, subprocess.Popen]) -> dict:
    deadline = time.monotonic() + timeout
    report: dict = {}
    while time.monotonic() < deadline:
        for name, proc in children.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with status {proc.returncode} during start-up")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own loopback URL
                report = json.load(response)
                if report.get("ok"):
                    return report
        except urllib.error.HTTPError as exc:
            report = json.load(exc)
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"/healthz not green after {timeout:.0f}s: {json.dumps(report.get('checks', report))}")


def main() -> int:
    host = os.environ.get("HOSPITAL_HOST", "127.0.0.1")
    port = os.environ.get("HOSPITAL_PORT", "8000")
    profile = embedded.PROFILES["run"]
    started_at = time.monotonic()
    started = embedded.services_up(
        profile, need_db=not os.environ.get("DATABASE_URL"), need_redis=not os.environ.get("REDIS_URL")
    )
    env = embedded.environment_for(profile)
    children: dict[str, subprocess.Popen] = {}

    def stop(*_args) -> None:
        for proc in children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in children.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        embedded.services_down(profile, started)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        _manage("migrate", "--noinput", env=env)
        _manage("seed_demo", "--once", env=env)
        var = Path(env.get("HOSPITAL_VAR_DIR", BASE_DIR / "var"))
        children["web"] = subprocess.Popen(
            [
                str(BIN / "gunicorn"), "hospital.wsgi:application",
                "--bind", f"{host}:{port}", "--workers", "2", "--threads", "4",
                "--access-logfile", "-", "--graceful-timeout", "10",
            ],
            cwd=BASE_DIR, env=env,
        )  # fmt: skip
        children["worker"] = subprocess.Popen(
            [
                str(BIN / "celery"), "-A", "hospital", "worker", "-Q", "default,ai,alerts",
                "--concurrency", "2", "--loglevel", "INFO", "-n", "worker@%h",
            ],
            cwd=BASE_DIR, env=env,
        )  # fmt: skip
        children["beat"] = subprocess.Popen(
            [
                str(BIN / "celery"), "-A", "hospital", "beat", "--loglevel", "INFO",
                "--schedule", str(var / "celerybeat-schedule"), "--pidfile", "",
            ],
            cwd=BASE_DIR, env=env,
        )  # fmt: skip
        url = f"http://{host}:{port}"
        _wait_healthy(f"{url}/healthz", 180, children)
        print(
            f"\n  Hospital platform is up at {url}/  (green /healthz after {time.monotonic() - started_at:.1f}s)\n"
            "  Demo logins (the administrator sets up a TOTP second factor on first admin visit):\n"
            f"{demo_logins_text()}\n"
            f"  API reference: {url}/api/docs/   Ctrl-C stops everything.\n",
            flush=True,
        )
        while all(proc.poll() is None for proc in children.values()):
            time.sleep(0.5)
        dead = [name for name, proc in children.items() if proc.poll() is not None]
        print(f"{', '.join(dead)} stopped unexpectedly; shutting down.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"make run failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
