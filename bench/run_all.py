"""Every benchmark, one after the other; prints all their tables.

`make bench` runs this inside the test profile's embedded PostgreSQL and Redis (DATABASE_URL and
REDIS_URL point at them). Each bench runs in its own interpreter so neither inherits the other's state.

    python bench/run_all.py
"""

import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BENCHES = [
    "api_read.py",
    "startup.py",
    "patient_search.py",
    "chart.py",
    "bed_board.py",
    "alert_latency.py",
    "scribe_asr.py",
    "forecast_nightly.py",
]


def main() -> int:
    failed = []
    for script in BENCHES:
        print(f"\n=== bench/{script} ===", flush=True)
        status = subprocess.call([sys.executable, str(BENCH_DIR / script)], cwd=BENCH_DIR.parent)
        if status != 0:
            failed.append(script)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
