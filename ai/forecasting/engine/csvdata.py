"""Read dated values from a CSV file into series, refusing files the backtest would silently misread.

A file holds one series, or a panel with a key column (several columns joined, e.g. "org_code,type").
Dates are daily (consecutive days) or monthly (first days of consecutive months). Every problem is reported
with its line number (the header is line 1): missing dates, duplicate dates, empty, non-numeric or negative
values, so the person who exported the file can fix it.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from .types import Series

DATE_COLUMN_NAMES = ("date", "day", "ds", "period", "month", "timestamp")
MAX_LISTED = 12  # problems spelled out in the message; the rest are counted


class CsvError(ValueError):
    """A file that cannot be used as it is; `rows` are the offending line numbers (header = line 1)."""

    def __init__(self, message: str, rows: list[int] | None = None):
        super().__init__(message)
        self.message = message
        self.rows = sorted(set(rows or []))


def _parse_date(text: str) -> date | None:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%Y-%m"):
        try:
            return datetime.strptime(text[:10] if fmt != "%Y-%m" else text[:7], fmt).date()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        return None


def _parse_number(text: str) -> float | None:
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _pick_column(fields: list[str], wanted: str | None, what: str, fallback: list[str]) -> str:
    lowered = {f.lower(): f for f in fields}
    if wanted:
        if wanted in fields:
            return wanted
        if wanted.lower() in lowered:
            return lowered[wanted.lower()]
        raise CsvError(f"no {what} column {wanted!r}; the file's columns are: {', '.join(fields)}")
    if not fallback:
        raise CsvError(f"cannot tell which column holds the {what}; name it (columns: {', '.join(fields)})")
    return fallback[0]


def read_csv(
    path: str | Path,
    *,
    date_column: str | None = None,
    value_column: str | None = None,
    key_column: str | None = None,
    known_columns: list[str] | str | None = None,
    skip_invalid_series: bool = False,
    problems: list[str] | None = None,
) -> list[Series]:
    """Series from a CSV of dated values.

    date_column: default the first column named date/day/ds/period/month, else the first column.
    value_column: default the first numeric column that is neither the date, a key nor a known feature.
    key_column: a column (or comma-separated columns) naming the series in a panel; without it the file is
    one series. known_columns: columns known in advance for every date (holiday flags, booked admissions),
    passed to the models as `Series.known`; "auto" takes every column holding only 0 and 1.
    skip_invalid_series: in a panel, leave out series with problems instead of failing the whole file; each
    one left out is described in `problems`. Raises CsvError naming the lines otherwise.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CsvError(f"cannot open {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CsvError(f"{path} is not a UTF-8 text file") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise CsvError(f"{path} is empty") from None
    rows = [(line, row) for line, row in enumerate(reader, start=2) if any(cell.strip() for cell in row)]
    if not rows:
        raise CsvError(f"{path} has a header but no rows")
    index = {name: i for i, name in enumerate(header)}

    date_col = _pick_column(
        header, date_column, "date", [h for h in header if h.lower() in DATE_COLUMN_NAMES] or header[:1]
    )
    key_cols = [k.strip() for k in key_column.split(",")] if key_column else []
    key_cols = [_pick_column(header, k, "key", []) for k in key_cols]

    def numeric_share(column: str) -> float:
        sample = [row[index[column]] for _, row in rows[:200] if index[column] < len(row)]
        return sum(_parse_number(v) is not None for v in sample) / max(1, len(sample))

    def is_flag(column: str) -> bool:
        values = {row[index[column]].strip() for _, row in rows if index[column] < len(row)}
        return bool(values) and values <= {"0", "1", "0.0", "1.0"}

    taken = {date_col, *key_cols}
    if isinstance(known_columns, str) and known_columns.lower() == "auto":
        known = [h for h in header if h not in taken and h != value_column and is_flag(h)]
    elif isinstance(known_columns, str):
        known = [k.strip() for k in known_columns.split(",") if k.strip()]
    else:
        known = list(known_columns or [])
    known = [_pick_column(header, k, "known-ahead", []) for k in known]
    candidates = [h for h in header if h not in taken and h not in known and numeric_share(h) >= 0.5]
    value_col = _pick_column(header, value_column, "value", candidates)
    if value_col in known:
        known.remove(value_col)

    errors: dict[str, list[tuple[int, str]]] = defaultdict(list)  # series key -> (line, problem)
    parsed: dict[str, list[tuple[date, int, float, dict[str, float]]]] = defaultdict(list)
    for line, row in rows:
        cells = row + [""] * (len(header) - len(row))
        key = "/".join(cells[index[k]].strip() for k in key_cols) if key_cols else path.stem
        day = _parse_date(cells[index[date_col]])
        if day is None:
            errors[key].append((line, f"{cells[index[date_col]].strip()!r} in column {date_col} is not a date"))
            continue
        raw = cells[index[value_col]].strip()
        value = _parse_number(raw)
        if raw == "":
            errors[key].append((line, f"no value in column {value_col}"))
            continue
        if value is None:
            errors[key].append((line, f"{raw!r} in column {value_col} is not a number"))
            continue
        if value < 0:
            errors[key].append((line, f"{raw} in column {value_col} is negative"))
            continue
        extra: dict[str, float] = {}
        for column in known:
            number = _parse_number(cells[index[column]])
            if number is None:
                errors[key].append((line, f"{cells[index[column]].strip()!r} in column {column} is not a number"))
                number = 0.0
            extra[column] = number
        parsed[key].append((day, line, value, extra))

    all_days = [day for entries in parsed.values() for day, *_ in entries]
    monthly = bool(all_days) and all(d.day == 1 for d in all_days) and len({(d.year, d.month) for d in all_days}) > 1
    if monthly:  # confirm: at least one series with two months in a row and no two dates in one month gap < 28
        sample = sorted(set(all_days))
        monthly = all((b - a).days >= 28 for a, b in zip(sample, sample[1:], strict=False))

    series: list[Series] = []
    for key in sorted(set(parsed) | set(errors)):
        entries = sorted(parsed.get(key, []), key=lambda e: (e[0], e[1]))
        problems_here = list(errors.get(key, []))
        for (d0, l0, *_), (d1, l1, *_) in zip(entries, entries[1:], strict=False):
            if d1 == d0:
                problems_here.append((l1, f"duplicate date {d1.isoformat()} (already on line {l0})"))
                continue
            expected = _next_month(d0) if monthly else d0 + timedelta(days=1)
            if d1 != expected:
                if monthly:
                    missing: list[date] = []
                    cursor = expected
                    while cursor < d1 and len(missing) < 40:
                        missing.append(cursor)
                        cursor = _next_month(cursor)
                    what = "month" if len(missing) == 1 else "months"
                    shown = ", ".join(m.strftime("%Y-%m") for m in missing[:3])
                else:
                    missing = [d0 + timedelta(days=i) for i in range(1, (d1 - d0).days)]
                    what = "date" if len(missing) == 1 else "dates"
                    shown = ", ".join(m.isoformat() for m in missing[:3])
                if d1.day != 1 and monthly:
                    problems_here.append((l1, f"{d1.isoformat()} is not the first day of a month"))
                else:
                    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
                    problems_here.append(
                        (l1, f"gap: {len(missing)} missing {what} between lines {l0} and {l1} ({shown}{more})")
                    )
        if problems_here:
            problems_here.sort()
            label = f"series {key}: " if key_cols else ""
            errors[key] = problems_here
            if skip_invalid_series and key_cols:
                if problems is not None:
                    problems.append(
                        f"{label}left out, {len(problems_here)} problem(s), first at line {problems_here[0][0]}: "
                        f"{problems_here[0][1]}"
                    )
                continue
            continue
        if not entries:
            continue
        dates = [e[0] for e in entries]
        values = np.array([e[2] for e in entries], dtype=np.float64)
        known_arrays = {c: np.array([e[3][c] for e in entries], dtype=np.float64) for c in known}
        series.append(Series(key=key, dates=dates, values=values, known=known_arrays, freq="M" if monthly else "D"))

    failing = {k: v for k, v in errors.items() if v and not (skip_invalid_series and key_cols)}
    if failing:
        listed: list[str] = []
        lines: list[int] = []
        for key, items in failing.items():
            for line, text in items:
                lines.append(line)
                if len(listed) < MAX_LISTED:
                    prefix = f"series {key}, " if key_cols else ""
                    listed.append(f"{prefix}line {line}: {text}")
        more = f"\n  ... and {len(lines) - len(listed)} more" if len(lines) > len(listed) else ""
        duplicated = sum("duplicate date" in text for items in failing.values() for _, text in items) >= 3
        hint = (
            "\n  (several series in one file? name the column that tells them apart)"
            if duplicated and not key_cols
            else ""
        )
        raise CsvError(
            f"{path.name}: {len(lines)} problem(s) in column {value_col}"
            f"{' per ' + ', '.join(key_cols) if key_cols else ''}:\n  " + "\n  ".join(listed) + more + hint,
            lines,
        )
    if not series:
        raise CsvError(f"{path.name}: no usable series")
    return series
