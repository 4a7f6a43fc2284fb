"""Seconds from `make run` to a green /healthz, on a first start (empty data) and a second start (same data).

Runs `python -m hospital.stack` (what `make run` runs once installed) with a fresh temporary
HOSPITAL_VAR_DIR and free ports, so it never touches the developer's var/ or a running stack. After
/healthz answers 200 it sends Ctrl-C (SIGINT to the process group, as a terminal does) and waits for
a clean exit: status 0, and the embedded PostgreSQL and Redis ports closed.

    python bench/startup.py
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_line, table  # noqa: E402

BASE_DIR = Path(__file__).resolve().parents[1]
START_TIMEOUT = 600
STOP_TIMEOUT = 90
# Set by `make bench` for the test services; the stack under test must start its own.
INHERITED_SERVICE_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "CACHE_URL",
    "CELERY_BROKER_URL",
    "HOSPITAL_EMBEDDED_PROFILE",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def healthz_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def one_start(env: dict[str, str], log_path: Path) -> dict:
    """Start the stack, time the first 200 from /healthz, then Ctrl-C it and time the clean exit."""
    url = f"http://127.0.0.1:{env['HOSPITAL_PORT']}/healthz"
    with log_path.open("ab") as log:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "hospital.stack"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        green = None
        try:
            while time.monotonic() - started < START_TIMEOUT:
                if proc.poll() is not None:
                    break
                if healthz_status(url) == 200:
                    green = time.monotonic() - started
                    break
                time.sleep(0.1)
        finally:
            stop_started = time.monotonic()
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
            try:
                status = proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                status = proc.wait()
            stopped = time.monotonic() - stop_started
    ports_closed = not any(port_open(int(env[name])) for name in ("EMBEDDED_PG_PORT", "EMBEDDED_REDIS_PORT"))
    return {"green": green, "stop": stopped, "status": status, "clean": status == 0 and ports_closed}


def main() -> int:
    var_dir = Path(tempfile.mkdtemp(prefix="hospital-bench-startup-"))
    env = {k: v for k, v in os.environ.items() if k not in INHERITED_SERVICE_VARIABLES}
    env.update(
        HOSPITAL_VAR_DIR=str(var_dir),
        EMBEDDED_PG_PORT=str(free_port()),
        EMBEDDED_REDIS_PORT=str(free_port()),
        HOSPITAL_PORT=str(free_port()),
        HOSPITAL_HOST="127.0.0.1",
    )
    env.pop("HOSPITAL_MODE", None)
    log_path = var_dir / "stack.log"
    results = []
    try:
        for label in ("first start (empty data)", "second start (same data)"):
            result = one_start(env, log_path)
            results.append((label, result))
            if result["green"] is None:
                break
    finally:
        keep_log = any(r["green"] is None or not r["clean"] for _label, r in results)
        if keep_log:
            kept = Path(tempfile.gettempdir()) / "hospital-bench-startup.log"
            shutil.copy(log_path, kept)
            print(f"stack output kept in {kept}", file=sys.stderr)
        shutil.rmtree(var_dir, ignore_errors=True)

    rows = [("start", "to green /healthz (s)", "Ctrl-C to exit (s)", "clean exit")]
    for label, r in results:
        green = f"{r['green']:.1f}" if r["green"] is not None else "never"
        rows.append((label, green, f"{r['stop']:.1f}", "yes" if r["clean"] else f"no (status {r['status']})"))
    print("Start-up: `python -m hospital.stack` (what `make run` runs), embedded PostgreSQL and Redis,")
    print("migrate + demo data + gunicorn + Celery worker + beat; timed from launch to the first 200 from /healthz.")
    print(table(rows))
    print(machine_line())
    return 0 if len(results) == 2 and all(r["green"] is not None and r["clean"] for _l, r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
