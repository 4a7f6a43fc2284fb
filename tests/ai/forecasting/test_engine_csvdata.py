"""Reading dated values from CSV files: good files become series, bad ones are refused with their line numbers."""

from datetime import date, timedelta

import numpy as np
import pytest

from ai.forecasting.engine.csvdata import CsvError, read_csv


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def daily(n, start=date(2024, 1, 1), value=lambda i: 10 + i % 7):
    return [(start + timedelta(days=i)).isoformat() + f",{value(i)}" for i in range(n)]


def test_a_daily_file_becomes_one_series_with_its_known_ahead_flags(tmp_path):
    rows = [f"{line},{int(i % 7 == 5)},{20.5 + i}" for i, line in enumerate(daily(30))]
    path = write(tmp_path, "date,arrivals,holiday,temp_f\n" + "\n".join(rows) + "\n")
    [series] = read_csv(path, known_columns="auto")
    assert series.freq == "D"
    assert series.dates[0] == date(2024, 1, 1) and len(series.dates) == 30
    assert series.values[:3].tolist() == [10, 11, 12]
    assert list(series.known) == ["holiday"]  # the temperature is not known ahead and is not a 0/1 flag
    assert series.known["holiday"].sum() == 4


def test_columns_are_found_by_name_and_the_value_column_can_be_chosen(tmp_path):
    path = write(
        tmp_path,
        "visits,day,beds\n"
        + "\n".join(
            f"{i},{d},{50}" for i, d in enumerate((date(2024, 1, 1) + timedelta(days=k)).isoformat() for k in range(10))
        )
        + "\n",
    )
    [series] = read_csv(path)
    assert series.values[:3].tolist() == [0, 1, 2]  # first numeric column that is not the date
    [beds] = read_csv(path, value_column="beds")
    assert np.all(beds.values == 50)


def test_a_gap_names_the_lines_and_the_missing_dates(tmp_path):
    lines = daily(10)
    del lines[4:6]  # 2024-01-05 and 2024-01-06 missing; the next row is on line 6
    path = write(tmp_path, "date,value\n" + "\n".join(lines) + "\n")
    with pytest.raises(CsvError) as caught:
        read_csv(path)
    assert caught.value.rows == [6]
    assert "line 6" in caught.value.message
    assert "2 missing dates" in caught.value.message and "2024-01-05" in caught.value.message


def test_negative_and_non_numeric_values_and_duplicate_dates_are_each_named(tmp_path):
    lines = daily(10)
    lines[2] = "2024-01-03,-4"
    lines[5] = "2024-01-06,many"
    lines[7] = "2024-01-07,12"  # a repeat of the previous date (2024-01-07), in place of 2024-01-08
    path = write(tmp_path, "date,value\n" + "\n".join(lines) + "\n")
    with pytest.raises(CsvError) as caught:
        read_csv(path)
    message = caught.value.message
    assert "line 4: -4 in column value is negative" in message
    assert "line 7: 'many' in column value is not a number" in message
    assert "line 9: duplicate date 2024-01-07 (already on line 8)" in message
    assert {4, 7, 9} <= set(caught.value.rows)


def test_an_empty_value_is_refused(tmp_path):
    lines = daily(5)
    lines[1] = "2024-01-02,"
    with pytest.raises(CsvError, match="line 3: no value"):
        read_csv(write(tmp_path, "date,value\n" + "\n".join(lines) + "\n"))


def test_a_panel_without_its_key_column_reports_duplicates_and_suggests_the_key(tmp_path):
    rows = [f"{d},{k},{v}" for d, v in (line.split(",") for line in daily(5)) for k in ("A", "B")]
    path = write(tmp_path, "date,ward,census\n" + "\n".join(rows) + "\n")
    with pytest.raises(CsvError, match="name the column that tells them apart"):
        read_csv(path)
    series = read_csv(path, key_column="ward")
    assert [s.key for s in series] == ["A", "B"]


def test_a_monthly_panel_with_two_key_columns_and_a_series_with_a_gap(tmp_path):
    months = [date(2017 + (m // 12), m % 12 + 1, 1).isoformat() for m in range(6)]
    rows = [f"{p},RX1,{t},{100 + i}" for i, p in enumerate(months) for t in ("1", "2")]
    rows += [f"{p},RX2,1,{50 + i}" for i, p in enumerate(months) if i != 3]  # RX2/1 misses its 4th month
    path = write(tmp_path, "period,org_code,type,attendances\n" + "\n".join(rows) + "\n")
    with pytest.raises(CsvError) as caught:
        read_csv(path, key_column="org_code,type")
    assert "series RX2/1" in caught.value.message and "1 missing month" in caught.value.message
    problems: list[str] = []
    series = read_csv(path, key_column="org_code,type", skip_invalid_series=True, problems=problems)
    assert [s.key for s in series] == ["RX1/1", "RX1/2"]
    assert all(s.freq == "M" for s in series)
    assert len(problems) == 1 and problems[0].startswith("series RX2/1: left out")


def test_unknown_columns_and_missing_files_are_clear_errors(tmp_path):
    path = write(tmp_path, "date,value\n2024-01-01,1\n")
    with pytest.raises(CsvError, match="no value column 'arrivals'"):
        read_csv(path, value_column="arrivals")
    with pytest.raises(CsvError, match="cannot open"):
        read_csv(tmp_path / "absent.csv")
