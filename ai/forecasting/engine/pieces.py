"""Backtest pieces kept between runs: one model's forecasts from one origin, keyed by all they depend on.

A rolling-origin backtest repeated a week later, on origins anchored to the same weekday, asks again for
every origin but the newest: the forecasts from an origin depend only on the model, its options, the seeds,
the horizon, the holiday calendar, the engine's code and each series' values up to that origin (with the
known-ahead features up to the horizon), none of which has changed. The key below hashes all of those, so a
stored piece is reused only when recomputing it would give the same numbers, and a corrected census day,
a ward added or an engine change makes the affected origins recompute.

The store is anything with `get(key) -> bytes | None` and `put(key, model=..., origin=..., payload=...)`;
the nightly job keeps pieces in the database (ai.forecasting.models.BacktestPiece).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .baselines import Task
from .calendar import HolidayCalendar


class PieceStore(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, *, model: str, origin: date, payload: bytes) -> None: ...


@dataclass
class Piece:
    point: np.ndarray  # (tasks, horizon)
    quantiles: np.ndarray  # (tasks, horizon, quantiles)
    members: np.ndarray  # (seeds, tasks, horizon): each seed's point forecast; (0, tasks, horizon) for baselines
    seconds: float  # what fitting it took when it was computed


@lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """A hash of the engine's source files: a new engine never reuses an old engine's pieces."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def calendar_fingerprint(calendar: HolidayCalendar) -> str:
    parts = [(b.start.isoformat(), b.end.isoformat(), b.name, b.major) for b in calendar.blocks]
    parts.append(tuple(sorted(d.isoformat() for d in calendar.makeup_workdays)))  # type: ignore[arg-type]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def piece_key(
    model: str,
    tasks: list[Task],
    *,
    horizon: int,
    seeds: int,
    calendar: HolidayCalendar,
    options: dict[str, Any] | None,
) -> str:
    """The hash of everything the forecasts of `model` on these tasks depend on (see the module doc)."""
    digest = hashlib.sha256()
    head = {
        "engine": engine_fingerprint(),
        "model": model,
        "horizon": horizon,
        "seeds": seeds,
        "options": options or {},
        "calendar": calendar_fingerprint(calendar),
    }
    digest.update(json.dumps(head, sort_keys=True, default=str).encode())
    for task in tasks:
        s = task.series
        idx = task.origin
        meta = [s.key, s.freq, s.dates[0].isoformat(), idx, s.capacity, sorted(s.known)]
        digest.update(json.dumps(meta, default=str).encode())
        digest.update(np.ascontiguousarray(s.values[: idx + 1], dtype=np.float64).tobytes())
        for name in sorted(s.known):
            digest.update(np.ascontiguousarray(s.known[name][: idx + 1 + horizon], dtype=np.float64).tobytes())
    return digest.hexdigest()


def piece_dumps(piece: Piece) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        point=piece.point,
        quantiles=piece.quantiles,
        members=piece.members,
        seconds=np.array(piece.seconds),
    )
    return buffer.getvalue()


def piece_loads(payload: bytes) -> Piece:
    with np.load(io.BytesIO(payload), allow_pickle=False) as data:
        return Piece(
            point=data["point"],
            quantiles=data["quantiles"],
            members=data["members"],
            seconds=float(data["seconds"]),
        )


class MemoryPieceStore:
    """A store in a dict, for backtests repeated in one process (tests, notebooks)."""

    def __init__(self) -> None:
        self.pieces: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.pieces.get(key)

    def put(self, key: str, *, model: str, origin: date, payload: bytes) -> None:
        self.pieces[key] = payload


class DirectoryPieceStore:
    """A store in a directory, one file per piece: lets the evaluation command resume or repeat a backtest
    (another model, more origins) without fitting again what it already fitted."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError("a piece key is a sha256 in hex")
        return self.directory / f"{key}.npz"

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, key: str, *, model: str, origin: date, payload: bytes) -> None:
        path = self._path(key)
        partial = path.with_suffix(".part")
        partial.write_bytes(payload)
        partial.replace(path)  # atomic: a reader never sees half a piece
