"""Mainland China public holidays, as the State Council's yearly notices set them (放假安排).

Each entry is the whole block of consecutive days off, weekends included. The working weekend days that
the notices swap in (调休) are not listed: the demo census treats them as ordinary weekend days.
Ranges for 2027 are provisional: estimated from the lunar calendar and recent notices, to be replaced
when the notice is published.
"""

from dataclasses import dataclass
from datetime import date, timedelta

SPRING_FESTIVAL = "spring_festival"
NATIONAL_DAY = "national_day"
NEW_YEAR = "new_year"
QINGMING = "qingming"
LABOUR_DAY = "labour_day"
DRAGON_BOAT = "dragon_boat"
MID_AUTUMN = "mid_autumn"

NAMES = {
    NEW_YEAR: ("New Year's Day", "元旦"),
    SPRING_FESTIVAL: ("Spring Festival", "春节"),
    QINGMING: ("Qingming Festival", "清明节"),
    LABOUR_DAY: ("Labour Day", "劳动节"),
    DRAGON_BOAT: ("Dragon Boat Festival", "端午节"),
    MID_AUTUMN: ("Mid-Autumn Festival", "中秋节"),
    NATIONAL_DAY: ("National Day", "国庆节"),
}


@dataclass(frozen=True)
class Holiday:
    key: str
    start: date
    end: date  # inclusive
    provisional: bool = False

    @property
    def name_en(self) -> str:
        return NAMES[self.key][0]

    @property
    def name_zh(self) -> str:
        return NAMES[self.key][1]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


def _h(key: str, start: tuple[int, int, int], end: tuple[int, int, int], provisional: bool = False) -> Holiday:
    return Holiday(key, date(*start), date(*end), provisional)


HOLIDAYS: tuple[Holiday, ...] = (
    # 2022 (only warms up the demo simulation before its first recorded day)
    _h(NEW_YEAR, (2022, 1, 1), (2022, 1, 3)),
    _h(SPRING_FESTIVAL, (2022, 1, 31), (2022, 2, 6)),
    _h(QINGMING, (2022, 4, 3), (2022, 4, 5)),
    _h(LABOUR_DAY, (2022, 4, 30), (2022, 5, 4)),
    _h(DRAGON_BOAT, (2022, 6, 3), (2022, 6, 5)),
    _h(MID_AUTUMN, (2022, 9, 10), (2022, 9, 12)),
    _h(NATIONAL_DAY, (2022, 10, 1), (2022, 10, 7)),
    # 2023
    _h(NEW_YEAR, (2022, 12, 31), (2023, 1, 2)),
    _h(SPRING_FESTIVAL, (2023, 1, 21), (2023, 1, 27)),
    _h(QINGMING, (2023, 4, 5), (2023, 4, 5)),
    _h(LABOUR_DAY, (2023, 4, 29), (2023, 5, 3)),
    _h(DRAGON_BOAT, (2023, 6, 22), (2023, 6, 24)),
    # Mid-Autumn fell on 29 September: one eight-day block with National Day.
    _h(NATIONAL_DAY, (2023, 9, 29), (2023, 10, 6)),
    # 2024
    _h(NEW_YEAR, (2023, 12, 30), (2024, 1, 1)),
    _h(SPRING_FESTIVAL, (2024, 2, 10), (2024, 2, 17)),
    _h(QINGMING, (2024, 4, 4), (2024, 4, 6)),
    _h(LABOUR_DAY, (2024, 5, 1), (2024, 5, 5)),
    _h(DRAGON_BOAT, (2024, 6, 8), (2024, 6, 10)),
    _h(MID_AUTUMN, (2024, 9, 15), (2024, 9, 17)),
    _h(NATIONAL_DAY, (2024, 10, 1), (2024, 10, 7)),
    # 2025
    _h(NEW_YEAR, (2025, 1, 1), (2025, 1, 1)),
    _h(SPRING_FESTIVAL, (2025, 1, 28), (2025, 2, 4)),
    _h(QINGMING, (2025, 4, 4), (2025, 4, 6)),
    _h(LABOUR_DAY, (2025, 5, 1), (2025, 5, 5)),
    _h(DRAGON_BOAT, (2025, 5, 31), (2025, 6, 2)),
    # Mid-Autumn fell on 6 October: one eight-day block with National Day.
    _h(NATIONAL_DAY, (2025, 10, 1), (2025, 10, 8)),
    # 2026
    _h(NEW_YEAR, (2026, 1, 1), (2026, 1, 3)),
    _h(SPRING_FESTIVAL, (2026, 2, 15), (2026, 2, 23)),
    _h(QINGMING, (2026, 4, 4), (2026, 4, 6)),
    _h(LABOUR_DAY, (2026, 5, 1), (2026, 5, 5)),
    _h(DRAGON_BOAT, (2026, 6, 19), (2026, 6, 21)),
    _h(MID_AUTUMN, (2026, 9, 25), (2026, 9, 27)),
    _h(NATIONAL_DAY, (2026, 10, 1), (2026, 10, 7)),
    # 2027 (provisional)
    _h(NEW_YEAR, (2027, 1, 1), (2027, 1, 3), provisional=True),
    _h(SPRING_FESTIVAL, (2027, 2, 5), (2027, 2, 12), provisional=True),
    _h(QINGMING, (2027, 4, 3), (2027, 4, 5), provisional=True),
    _h(LABOUR_DAY, (2027, 5, 1), (2027, 5, 5), provisional=True),
    _h(DRAGON_BOAT, (2027, 6, 9), (2027, 6, 11), provisional=True),
    _h(MID_AUTUMN, (2027, 9, 15), (2027, 9, 17), provisional=True),
    _h(NATIONAL_DAY, (2027, 10, 1), (2027, 10, 7), provisional=True),
)

COVERED_FROM = date(2022, 1, 1)
COVERED_TO = date(2027, 12, 31)

_BY_DAY: dict[date, Holiday] = {
    holiday.start + timedelta(days=offset): holiday for holiday in HOLIDAYS for offset in range(holiday.days)
}


def holiday_on(day: date) -> Holiday | None:
    """The holiday block that `day` falls in, or None (also None outside the covered years)."""
    return _BY_DAY.get(day)


def holidays_between(start: date, end: date) -> list[Holiday]:
    """Holiday blocks that overlap [start, end], in date order."""
    return sorted((h for h in HOLIDAYS if h.start <= end and h.end >= start), key=lambda h: h.start)
