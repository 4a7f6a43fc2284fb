"""Holiday calendars: the Chinese default, files, and the features the models read."""

from datetime import date

import numpy as np
import pytest

from ai.forecasting.engine.calendar import FEATURE_NAMES, HolidayCalendar, resolve

COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


@pytest.fixture(scope="module")
def cn():
    return HolidayCalendar.default()


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2024, 2, 10), "Spring Festival"),  # the published 8-day break 10-17 February
        (date(2024, 2, 17), "Spring Festival"),
        (date(2025, 1, 28), "Spring Festival"),  # the eve, a day off since 2025
        (date(2023, 9, 29), "National Day and Mid-Autumn Festival"),  # Mid-Autumn merged into the week
        (date(2023, 10, 6), "National Day and Mid-Autumn Festival"),
        (date(2019, 10, 7), "National Day"),
        (date(2024, 4, 4), "Qingming Festival"),
        (date(2021, 5, 5), "Labour Day"),
        (date(2024, 6, 10), "Dragon Boat Festival"),
        (date(2030, 1, 1), "New Year's Day"),
        (date(2035, 2, 8), "Spring Festival"),
    ],
)
def test_default_calendar_knows_the_chinese_holidays(cn, day, name):
    assert cn.is_holiday(day)
    assert cn.name(day) == name


@pytest.mark.parametrize("day", [date(2024, 2, 18), date(2023, 10, 7), date(2024, 3, 5), date(2025, 1, 2)])
def test_default_calendar_leaves_ordinary_days_alone(cn, day):
    assert not cn.is_holiday(day)
    assert cn.name(day) is None


def test_features_mark_bridge_days_makeup_workdays_and_the_distance_to_a_holiday(cn):
    # 2024: Mid-Autumn on Tuesday 17 September, off Sunday 15 - Tuesday 17, Saturday 14 worked
    days = [date(2024, 9, 10), date(2024, 9, 14), date(2024, 9, 16), date(2024, 9, 18), date(2024, 9, 22)]
    f = cn.features(days)
    assert f.shape == (5, len(FEATURE_NAMES))
    assert f[0, COLUMN["days_to_holiday"]] == pytest.approx(5 / 14)
    assert f[1, COLUMN["makeup_workday"]] == 1 and f[1, COLUMN["workday"]] == 1
    assert f[2, COLUMN["holiday"]] == 1 and f[2, COLUMN["bridge"]] == 1  # a Monday off
    assert f[3, COLUMN["days_since_holiday"]] == pytest.approx(1 / 14)
    assert f[4, COLUMN["workday"]] == 0  # an ordinary Sunday
    assert f.min() >= 0 and f.max() <= 1


def test_major_holidays_are_flagged(cn):
    f = cn.features([date(2024, 10, 3), date(2024, 5, 3)])
    assert f[:, COLUMN["major_holiday"]].tolist() == [1.0, 0.0]


def test_none_calendar_has_no_holidays():
    calendar = HolidayCalendar.named("none")
    assert not calendar.is_holiday(date(2024, 10, 1))
    f = calendar.features([date(2024, 10, 1), date(2024, 10, 5)])
    assert f[:, COLUMN["holiday"]].sum() == 0
    assert f[0, COLUMN["workday"]] == 1 and f[1, COLUMN["workday"]] == 0


def test_csv_calendar_groups_consecutive_days_and_reads_workdays(tmp_path):
    path = tmp_path / "holidays.csv"
    path.write_text("date,name,kind\n2020-12-25,Christmas,\n2020-12-26,Boxing Day,\n2020-12-27,x,workday\n")
    calendar = HolidayCalendar.from_csv(path)
    assert [(b.start, b.end) for b in calendar.blocks] == [(date(2020, 12, 25), date(2020, 12, 26))]
    assert calendar.name(date(2020, 12, 26)) == "Christmas"  # the block's name
    assert date(2020, 12, 27) in calendar.makeup_workdays


def test_csv_calendar_names_the_bad_line(tmp_path):
    path = tmp_path / "holidays.csv"
    path.write_text("date,name\n2020-12-25,Christmas\n25/12/2021,Christmas\n")
    with pytest.raises(ValueError, match="line 3"):
        HolidayCalendar.from_csv(path)


def test_resolve_accepts_a_name_or_a_path_and_refuses_anything_else(tmp_path):
    assert resolve("cn").is_holiday(date(2024, 10, 1))
    assert not resolve("none").blocks
    path = tmp_path / "h.csv"
    path.write_text("date,name\n2021-07-04,Independence Day\n")
    assert resolve(str(path)).is_holiday(date(2021, 7, 4))
    with pytest.raises(ValueError, match="no such file"):
        resolve("us-holidays-that-do-not-exist.csv")


def test_features_of_an_empty_list():
    assert HolidayCalendar.default().features([]).shape == (0, len(FEATURE_NAMES))
    assert np.all(HolidayCalendar.none().features([date(2020, 1, 1)])[:, COLUMN["days_to_holiday"]] == 1)
