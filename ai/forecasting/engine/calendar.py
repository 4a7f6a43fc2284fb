"""Public-holiday calendars and the calendar features the models see for each day.

The default is the mainland Chinese calendar for 2010-2035. Festival dates that follow the lunar calendar
(Spring Festival, Dragon Boat, Mid-Autumn) and the solar term Qingming are hard-coded below; the days off
around them follow the State Council's usual pattern (a three-day weekend for one-day festivals, a week for
the Spring Festival and National Day, five days for Labour Day since 2020), with the published schedules
used where they broke the pattern. The make-up working weekends are approximated by the same pattern; a
hospital that wants the exact official schedule, or another country's, loads a CSV (`HolidayCalendar.from_csv`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

# Lunar new year's day (the eve is the day before), Dragon Boat (5th day of the 5th month), Mid-Autumn
# (15th day of the 8th month) and Qingming (solar term) per Gregorian year.
SPRING_FESTIVAL = {
    2010: (2, 14), 2011: (2, 3), 2012: (1, 23), 2013: (2, 10), 2014: (1, 31), 2015: (2, 19), 2016: (2, 8),
    2017: (1, 28), 2018: (2, 16), 2019: (2, 5), 2020: (1, 25), 2021: (2, 12), 2022: (2, 1), 2023: (1, 22),
    2024: (2, 10), 2025: (1, 29), 2026: (2, 17), 2027: (2, 6), 2028: (1, 26), 2029: (2, 13), 2030: (2, 3),
    2031: (1, 23), 2032: (2, 11), 2033: (1, 31), 2034: (2, 19), 2035: (2, 8),
}  # fmt: skip
DRAGON_BOAT = {
    2010: (6, 16), 2011: (6, 6), 2012: (6, 23), 2013: (6, 12), 2014: (6, 2), 2015: (6, 20), 2016: (6, 9),
    2017: (5, 30), 2018: (6, 18), 2019: (6, 7), 2020: (6, 25), 2021: (6, 14), 2022: (6, 3), 2023: (6, 22),
    2024: (6, 10), 2025: (5, 31), 2026: (6, 19), 2027: (6, 9), 2028: (5, 28), 2029: (6, 16), 2030: (6, 5),
    2031: (6, 24), 2032: (6, 12), 2033: (6, 1), 2034: (6, 20), 2035: (6, 10),
}  # fmt: skip
MID_AUTUMN = {
    2010: (9, 22), 2011: (9, 12), 2012: (9, 30), 2013: (9, 19), 2014: (9, 8), 2015: (9, 27), 2016: (9, 15),
    2017: (10, 4), 2018: (9, 24), 2019: (9, 13), 2020: (10, 1), 2021: (9, 21), 2022: (9, 10), 2023: (9, 29),
    2024: (9, 17), 2025: (10, 6), 2026: (9, 25), 2027: (9, 15), 2028: (10, 3), 2029: (9, 22), 2030: (9, 12),
    2031: (10, 1), 2032: (9, 19), 2033: (10, 7), 2034: (9, 27), 2035: (9, 16),
}  # fmt: skip
QINGMING_DAY = {year: 4 if year % 4 in (0, 1) else 5 for year in range(2010, 2036)}  # 4 or 5 April

# Spring Festival breaks that did not run from the eve to the sixth day (first day, number of days).
SPRING_FESTIVAL_PUBLISHED = {
    2014: ((1, 31), 7),
    2020: ((1, 24), 10),  # extended to 2 February that year
    2024: ((2, 10), 8),
    2026: ((2, 15), 9),
}

FIRST_YEAR, LAST_YEAR = 2010, 2035
HORIZON_CAP = 14  # days; distances to a holiday further away than this are all "far"

FEATURE_NAMES = (
    "holiday",  # a day off for a public holiday (any weekday)
    "bridge",  # a Monday-Friday day off inside a holiday block
    "makeup_workday",  # a Saturday or Sunday that is a working day because of a holiday
    "days_to_holiday",  # days until the next holiday block starts, /14, capped at 1
    "days_since_holiday",  # days since the last holiday block ended, /14, capped at 1
    "major_holiday",  # inside the Spring Festival or National Day week
    "block_position",  # position inside the block, 0 (first day) .. 1 (last day); 0 outside
    "workday",  # a normal working day: Monday-Friday not off, or a make-up working weekend
)


@dataclass(frozen=True)
class HolidayBlock:
    start: date
    end: date  # inclusive
    name: str
    major: bool = False

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def _short_break(festival: date) -> tuple[date, date, list[date]]:
    """The days off around a one-day festival and the make-up working weekend days (usual practice)."""
    weekday = festival.weekday()  # Monday = 0
    if weekday == 0:  # Monday: Saturday-Monday
        return festival - timedelta(days=2), festival, []
    if weekday == 1:  # Tuesday: Sunday-Tuesday, the Saturday before is worked
        return festival - timedelta(days=2), festival, [festival - timedelta(days=3)]
    if weekday == 2:  # Wednesday: that day only
        return festival, festival, []
    if weekday == 3:  # Thursday: Thursday-Saturday, the Sunday after is worked
        return festival, festival + timedelta(days=2), [festival + timedelta(days=3)]
    if weekday == 4:  # Friday: Friday-Sunday
        return festival, festival + timedelta(days=2), []
    if weekday == 5:  # Saturday: Saturday-Monday
        return festival, festival + timedelta(days=2), []
    return festival - timedelta(days=1), festival + timedelta(days=1), []  # Sunday: Saturday-Monday


def _week_break_makeup(start: date, end: date, paid_days: int) -> list[date]:
    """Weekend days just before or after a long break that are worked to pay for its weekdays off."""
    block = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    weekdays_off = sum(1 for d in block if d.weekday() < 5)
    owed = max(0, weekdays_off - paid_days)
    makeup: list[date] = []
    before = [start - timedelta(days=i) for i in range(1, 8) if (start - timedelta(days=i)).weekday() >= 5]
    after = [end + timedelta(days=i) for i in range(1, 8) if (end + timedelta(days=i)).weekday() >= 5]
    candidates = sorted(before + after, key=lambda d: min(abs((d - start).days), abs((d - end).days)))
    for d in candidates:
        if len(makeup) >= owed:
            break
        makeup.append(d)
    return makeup


def _chinese_blocks() -> tuple[list[HolidayBlock], set[date]]:
    blocks: list[HolidayBlock] = []
    makeup: set[date] = set()

    def short(festival: date, name: str) -> None:
        start, end, worked = _short_break(festival)
        blocks.append(HolidayBlock(start, end, name))
        makeup.update(worked)

    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        short(date(year, 1, 1), "New Year's Day")

        new_year = date(year, *SPRING_FESTIVAL[year])
        if year in SPRING_FESTIVAL_PUBLISHED:
            (month, day), length = SPRING_FESTIVAL_PUBLISHED[year]
            sf_start = date(year, month, day)
        else:  # the eve to the sixth day; eight days (eve to seventh) since the 2025 holiday law
            sf_start, length = new_year - timedelta(days=1), (8 if year >= 2025 else 7)
        sf_end = sf_start + timedelta(days=length - 1)
        blocks.append(HolidayBlock(sf_start, sf_end, "Spring Festival", major=True))
        makeup.update(_week_break_makeup(sf_start, sf_end, paid_days=4 if year >= 2025 else 3))

        short(date(year, 4, QINGMING_DAY[year]), "Qingming Festival")

        if year >= 2020:
            labour_start, labour_end = date(year, 5, 1), date(year, 5, 5)
            blocks.append(HolidayBlock(labour_start, labour_end, "Labour Day"))
            makeup.update(_week_break_makeup(labour_start, labour_end, paid_days=2 if year >= 2025 else 1))
        elif year == 2019:
            blocks.append(HolidayBlock(date(2019, 5, 1), date(2019, 5, 4), "Labour Day"))
            makeup.update({date(2019, 4, 28), date(2019, 5, 5)})
        else:
            short(date(year, 5, 1), "Labour Day")

        short(date(year, *DRAGON_BOAT[year]), "Dragon Boat Festival")

        mid_autumn = date(year, *MID_AUTUMN[year])
        national = date(year, 10, 1)
        if date(year, 9, 29) <= mid_autumn <= date(year, 10, 8):  # merged into one eight-day break
            nd_start = min(mid_autumn, national)
            nd_end = nd_start + timedelta(days=7)
            blocks.append(HolidayBlock(nd_start, nd_end, "National Day and Mid-Autumn Festival", major=True))
            makeup.update(_week_break_makeup(nd_start, nd_end, paid_days=4))
        else:
            short(mid_autumn, "Mid-Autumn Festival")
            nd_end = national + timedelta(days=6)
            blocks.append(HolidayBlock(national, nd_end, "National Day", major=True))
            makeup.update(_week_break_makeup(national, nd_end, paid_days=3))
    off = {d for block in blocks for d in block.days()}
    return blocks, {d for d in makeup if d not in off}


class HolidayCalendar:
    """A set of holiday blocks (consecutive days off) and make-up working days, and the features derived."""

    def __init__(self, blocks: Iterable[HolidayBlock] = (), makeup_workdays: Iterable[date] = (), *, label: str = ""):
        self.blocks = sorted(blocks, key=lambda b: b.start)
        self.label = label
        self._names: dict[date, str] = {}
        self._block_of: dict[date, HolidayBlock] = {}
        for block in self.blocks:
            for d in block.days():
                self._names.setdefault(d, block.name)
                self._block_of.setdefault(d, block)
        self.makeup_workdays = set(makeup_workdays) - set(self._names)
        self._starts = np.array([b.start.toordinal() for b in self.blocks], dtype=np.int64)
        self._ends = np.array([b.end.toordinal() for b in self.blocks], dtype=np.int64)

    def __repr__(self) -> str:
        return f"HolidayCalendar({self.label or 'custom'}, {len(self.blocks)} blocks)"

    @classmethod
    def default(cls) -> HolidayCalendar:
        """Mainland China, 2010-2035."""
        blocks, makeup = _chinese_blocks()
        return cls(blocks, makeup, label="cn")

    @classmethod
    def none(cls) -> HolidayCalendar:
        return cls([], [], label="none")

    @classmethod
    def named(cls, name: str) -> HolidayCalendar:
        key = name.strip().lower()
        if key in ("cn", "china", "default"):
            return cls.default()
        if key in ("none", ""):
            return cls.none()
        raise ValueError(f"unknown holiday calendar {name!r}: use 'cn', 'none' or the path of a CSV file")

    @classmethod
    def from_csv(cls, path: str | Path) -> HolidayCalendar:
        """Read columns `date,name` (optional `kind`: holiday | workday). Consecutive holiday dates form a block.

        Raises ValueError naming the line of a bad row.
        """
        holidays: dict[date, str] = {}
        workdays: set[date] = set()
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            fields = [f.strip().lower() for f in reader.fieldnames or []]
            if "date" not in fields or "name" not in fields:
                raise ValueError(f"{path}: a holiday calendar needs the columns date,name (found {fields})")
            for line, row in enumerate(reader, start=2):
                row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
                try:
                    day = date.fromisoformat(row["date"])
                except ValueError:
                    raise ValueError(f"{path}, line {line}: {row['date']!r} is not a date (YYYY-MM-DD)") from None
                if row.get("kind", "holiday").lower() in ("workday", "working", "makeup"):
                    workdays.add(day)
                else:
                    holidays[day] = row["name"] or "holiday"
        calendar = cls.from_days(holidays, label=str(path))
        return cls(calendar.blocks, workdays, label=str(path))

    @classmethod
    def from_days(cls, days: dict[date, str], *, label: str = "") -> HolidayCalendar:
        """A calendar from holiday days and their names; consecutive days form one block."""
        blocks: list[HolidayBlock] = []
        for day in sorted(days):
            last = blocks[-1] if blocks else None
            if last and day == last.end + timedelta(days=1):
                blocks[-1] = HolidayBlock(last.start, day, last.name, last.major)
            else:
                blocks.append(HolidayBlock(day, day, days[day]))
        return cls(blocks, [], label=label)

    def is_holiday(self, d: date) -> bool:
        return d in self._names

    def name(self, d: date) -> str | None:
        return self._names.get(d)

    def features(self, dates: Sequence[date]) -> np.ndarray:
        """One row per date, columns FEATURE_NAMES, all in [0, 1]."""
        out = np.zeros((len(dates), len(FEATURE_NAMES)), dtype=np.float32)
        if not len(dates):
            return out
        ordinals = np.array([d.toordinal() for d in dates], dtype=np.int64)
        if len(self.blocks):
            nxt = np.searchsorted(self._starts, ordinals, side="right")  # first block starting after the day
            to_next = np.where(nxt < len(self._starts), self._starts[np.minimum(nxt, len(self._starts) - 1)], 10**9)
            prev = np.searchsorted(self._ends, ordinals, side="left") - 1  # last block ending before the day
            since = np.where(prev >= 0, self._ends[np.maximum(prev, 0)], -(10**9))
            out[:, 3] = np.minimum((to_next - ordinals) / HORIZON_CAP, 1.0)
            out[:, 4] = np.minimum((ordinals - since) / HORIZON_CAP, 1.0)
        else:
            out[:, 3] = 1.0
            out[:, 4] = 1.0
        for i, d in enumerate(dates):
            weekend = d.weekday() >= 5
            block = self._block_of.get(d)
            if block is not None:
                out[i, 0] = 1.0
                out[i, 1] = 0.0 if weekend else 1.0
                out[i, 5] = 1.0 if block.major else 0.0
                length = (block.end - block.start).days
                out[i, 6] = (d - block.start).days / length if length else 0.0
                out[i, 3] = 0.0
                out[i, 4] = 0.0
            elif d in self.makeup_workdays:
                out[i, 2] = 1.0
                out[i, 7] = 1.0
            elif not weekend:
                out[i, 7] = 1.0
        return out


def resolve(setting_value: str | HolidayCalendar | None) -> HolidayCalendar:
    """A calendar from a setting: "cn", "none", or the path of a CSV file (date,name[,kind])."""
    if isinstance(setting_value, HolidayCalendar):
        return setting_value
    if setting_value is None:
        return HolidayCalendar.default()
    value = str(setting_value).strip()
    if value.lower() in ("cn", "china", "default", "none", ""):
        return HolidayCalendar.named(value)
    path = Path(value)
    if not path.exists():
        raise ValueError(f"holiday calendar {value!r}: not 'cn' or 'none', and no such file")
    return HolidayCalendar.from_csv(path)
