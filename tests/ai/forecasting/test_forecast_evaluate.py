"""manage.py forecast_evaluate: the backtest table from a CSV, clear refusals of bad files."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from .support import weekly_series


def write_csv(tmp_path, series, *, extra=None, name="census.csv"):
    lines = ["date,census,holiday"]
    for day, value in zip(series.dates, series.values, strict=True):
        lines.append(f"{day.isoformat()},{int(value)},{int(day.month == 5 and day.day == 1)}")
    for index, text in sorted((extra or {}).items(), reverse=True):
        if text is None:  # ten days missing from here
            del lines[index : index + 10]
        else:
            lines[index] = text
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("forecast_evaluate", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_table_lists_every_model_with_its_scores_and_says_which_serves(tmp_path):
    path = write_csv(tmp_path, weekly_series(days=160, seed=2))
    out, err = run(
        "--csv", str(path), "--models", "seasonal_naive,weekday_mean4,gru", "--origins", "3", "--horizon", "7",
        "--seeds", "2", "--epochs", "1", "--markdown",
    )  # fmt: skip
    header, rule, *rows = out.splitlines()[:5]
    assert header.startswith("| Model | MAE (h1 / h4 / h7 / 1-7) | sMAPE % | MASE | 80% coverage | 95% coverage")
    assert rule.startswith("|---|---:|")
    assert [row.split("|")[1].strip().rstrip(" *") for row in rows] == ["seasonal_naive", "weekday_mean4", "gru"]
    assert "best baseline" in out
    assert "gru: an ensemble of 2 seeds; single seeds' MAE" in out
    assert "Serves (*):" in out and out.count(" *") == 1
    assert "known ahead: holiday" in err


def test_a_run_again_with_a_pieces_directory_reuses_what_it_fitted(tmp_path):
    path = write_csv(tmp_path, weekly_series(days=160, seed=2))
    args = ["--csv", str(path), "--origins", "3", "--horizon", "7", "--seeds", "2", "--epochs", "1"]
    pieces = tmp_path / "pieces"
    first, err = run(*args, "--models", "seasonal_naive,gru", "--pieces", str(pieces))
    assert "(0 of 6 forecasts reused)" in err and len(list(pieces.glob("*.npz"))) == 6
    again, err = run(*args, "--models", "seasonal_naive,weekday_mean4,gru", "--pieces", str(pieces))
    assert "(6 of 9 forecasts reused)" in err and len(list(pieces.glob("*.npz"))) == 9

    def maes(out):  # model -> its MAE column (h1 / h4 / h7 / 1-7)
        return {tokens[0]: tokens[1:8] for tokens in ([t for t in line.split() if t != "*"] for line in
                out.splitlines()[2:5] if line.strip())}  # fmt: skip

    assert maes(first) == {name: values for name, values in maes(again).items() if name != "weekday_mean4"}


def test_averages_of_models_are_scored_from_the_backtest_forecasts(tmp_path):
    path = write_csv(tmp_path, weekly_series(days=160, seed=2))
    args = ["--csv", str(path), "--models", "seasonal_naive,weekday_mean4", "--origins", "3", "--horizon", "7"]
    out, _ = run(*args, "--markdown", "--averages", "seasonal_naive+weekday_mean4,weekday_mean4")
    header, rule, both, single = out.splitlines()[-4:]
    assert header.startswith("| average of | MAE | vs ")
    assert both.startswith("| seasonal_naive + weekday_mean4 | ")
    # an "average" of one model is that model: its MAE over all horizons, as in the main table
    table_mae = float(next(line for line in out.splitlines() if line.startswith("| weekday_mean4")).split("|")[2]
                      .split("/")[-1])  # fmt: skip
    assert float(single.split("|")[2]) == pytest.approx(table_mae, abs=0.05)  # the table rounds to 0.1
    with pytest.raises(CommandError, match="not in the backtest: auto_ets"):
        run(*args, "--averages", "auto_ets+weekday_mean4")
    with pytest.raises(CommandError, match="unknown model"):
        run(*args, "--averages", "prophet+weekday_mean4")


def test_plain_text_output_and_a_chosen_value_column(tmp_path):
    path = write_csv(tmp_path, weekly_series(days=120, seed=4))
    out, _ = run("--csv", str(path), "--value-column", "census", "--models", "seasonal_naive", "--origins", "2")
    assert out.splitlines()[0].startswith("Model")
    assert "seasonal_naive *" in out


@pytest.mark.parametrize(
    ("line", "text", "expected"),
    [
        (30, "2023-01-30,-3,0", "line 30: -3 in column census is negative"),
        (40, "2023-02-08,lots,0", "line 40: 'lots' in column census is not a number"),
        (50, "2023-02-17,12,0", "line 50: duplicate date 2023-02-17 (already on line 48)"),
        (
            60,
            None,
            "line 60: gap: 10 missing dates between lines 59 and 60 (2023-03-01, 2023-03-02, 2023-03-03 and 7 more)",
        ),
    ],
)
def test_a_bad_csv_is_refused_naming_the_rows(tmp_path, line, text, expected):
    path = write_csv(tmp_path, weekly_series(days=120), extra={line - 1: text})
    with pytest.raises(CommandError) as caught:
        run("--csv", str(path), "--models", "seasonal_naive", "--origins", "2")
    assert expected in str(caught.value)


def test_unknown_models_and_missing_files_are_command_errors(tmp_path):
    with pytest.raises(CommandError, match="Unknown model"):
        run("--csv", str(tmp_path / "x.csv"), "--models", "arima")
    with pytest.raises(CommandError, match="cannot open"):
        run("--csv", str(tmp_path / "x.csv"))


def test_holiday_columns_become_the_calendar(tmp_path):
    path = write_csv(tmp_path, weekly_series(days=140, seed=6))
    _, err = run(
        "--csv", str(path), "--holiday-columns", "holiday", "--models", "seasonal_naive", "--origins", "2",
    )  # fmt: skip
    assert "holiday calendar: columns holiday" in err


@pytest.mark.django_db
def test_the_hospital_without_census_history_is_a_clear_error():
    with pytest.raises(CommandError, match="no ward census history"):
        run("--hospital", "--models", "seasonal_naive")
