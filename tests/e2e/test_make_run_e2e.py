"""`make run` from nothing: embedded PostgreSQL and Redis, migrate, demo data, web + worker + beat.

Starts `python -m hospital.stack` (what `make run` runs after installing) with DATABASE_URL and
REDIS_URL unset, in an empty data folder, on free ports; then the demo doctor signs in through
Debian chromium; then Ctrl-C must stop everything, embedded servers included.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from hospital.demo.accounts import DEMO_PASSWORD

BASE_DIR = Path(__file__).resolve().parents[2]
START_TIMEOUT = 420


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _ports_still_open(ports: dict[str, int], wait: float = 15.0) -> list[str]:
    """The services whose port still answers after up to `wait` seconds (a server closes its socket as it exits)."""
    deadline = time.monotonic() + wait
    while True:
        still_open = [name for name, port in ports.items() if _port_open(port)]
        if not still_open or time.monotonic() > deadline:
            return still_open
        time.sleep(0.5)


class Stack:
    def __init__(self, var_dir: Path):
        self.ports = {
            "EMBEDDED_PG_PORT": _free_port(),
            "EMBEDDED_REDIS_PORT": _free_port(),
            "HOSPITAL_PORT": _free_port(),
        }
        removed = (
            "DATABASE_URL",
            "REDIS_URL",
            "HOSPITAL_EMBEDDED_PROFILE",
            "TEST_DATABASE_NAME",
            "DJANGO_SETTINGS_MODULE",
        )
        self.env = {key: value for key, value in os.environ.items() if key not in removed}
        self.env.update({key: str(value) for key, value in self.ports.items()}, HOSPITAL_VAR_DIR=str(var_dir))
        self.lines: list[str] = []
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['HOSPITAL_PORT']}"

    def start(self) -> float:
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hospital.stack"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()
        while time.monotonic() - started < START_TIMEOUT:
            if any("Hospital platform is up" in line for line in self.lines):
                return time.monotonic() - started
            if self.proc.poll() is not None:
                break
            time.sleep(0.5)
        self.stop()
        pytest.fail("make run did not come up:\n" + "".join(self.lines[-60:]))

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            return self.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return None


@pytest.mark.e2e
def test_make_run_from_nothing_then_demo_doctor_signs_in(tmp_path, browser):
    stack = Stack(tmp_path / "var")
    try:
        # Given an empty data folder and no DATABASE_URL / REDIS_URL
        stack.start()

        # Then /healthz is green with a live worker
        with urllib.request.urlopen(f"{stack.url}/healthz", timeout=10) as response:  # noqa: S310 - loopback
            health = json.load(response)
        assert health["ok"] is True
        assert health["checks"]["worker"]["ok"] is True

        # When the demo doctor signs in with a real browser
        context = browser.new_context(base_url=stack.url, locale="en-GB")
        page = context.new_page()
        page.goto("/")
        assert "/accounts/login/" in page.url
        page.fill("input[name=username]", "dr.li")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{stack.url}/")

        # Then the home page greets the doctor
        assert "李明" in page.content()
        context.close()
    finally:
        returncode = stack.stop()

    # Ctrl-C stopped everything cleanly, the embedded servers included
    assert returncode == 0, "".join(stack.lines[-40:])
    assert _ports_still_open(stack.ports) == []

    # A second start reuses the data: no new migration, no second demo load
    try:
        stack.lines.clear()
        stack.start()
        output = "".join(stack.lines)
        assert "Applying " not in output
        assert "already loaded" in output
    finally:
        assert stack.stop() == 0
