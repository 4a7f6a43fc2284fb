"""What the figures were measured on, printed under every bench table."""

import os
import platform
import sys


def machine_line() -> str:
    cpus = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cpus
    return (
        f"machine: {usable} usable cores ({cpus} online), {platform.machine()}, "
        f"{platform.system()} {platform.release()}; Python {sys.version.split()[0]}"
    )


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
