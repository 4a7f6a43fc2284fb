"""manage.py forecast_evaluate --csv PATH | --hospital: the forecasting backtest on any dated series, as one table.

Runs the same rolling-origin backtest as the nightly job (ai.forecasting.engine.backtest) on a CSV of dated
values (one series, or a panel with --key-column) or on the hospital's own wards, and prints per model the
MAE, sMAPE, MASE and 80%/95% interval coverage at horizons 1, 7 and 14 and over all horizons, the bias, the
training time, the bootstrap interval against the best baseline, and which model would serve and why.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Backtest the forecasting models on a CSV of dated values (or the hospital's wards with --hospital) and "
        "print one table: MAE / sMAPE / MASE / 80% and 95% coverage at horizons 1, 7, 14 and 1-14, bias, "
        "training time, the bootstrap interval against the best baseline, and which model would serve."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--csv", help="A CSV file of dated values (daily, or monthly: first days of months).")
        source.add_argument("--hospital", action="store_true", help="The hospital's own wards (midnight census).")
        parser.add_argument("--date-column", help="Default: the column named date/day/ds/period, else the first.")
        parser.add_argument("--value-column", help="Default: the first numeric column that is not a key or feature.")
        parser.add_argument("--key-column", help="Column(s) naming each series of a panel, e.g. org_code,type.")
        parser.add_argument(
            "--known-columns",
            default="auto",
            help="Columns known ahead for every date (holiday flags, bookings): 'auto' (every 0/1 column, the "
            "default), 'none', or a comma-separated list. Never pass a value only measured on the day (weather).",
        )
        parser.add_argument(
            "--holiday-columns",
            help="0/1 columns that mark public holidays: they become the holiday calendar (distance to and from "
            "holidays, bridge days) instead of --calendar.",
        )
        parser.add_argument(
            "--calendar",
            help="Holiday calendar: 'cn' (Chinese public holidays), 'none', or a CSV of date,name. Default: 'none' "
            "for --csv, the FORECAST_HOLIDAY_CALENDAR setting for --hospital.",
        )
        parser.add_argument("--horizon", type=int, help="Steps ahead (default 14 days; 3 for monthly data).")
        parser.add_argument("--origins", type=int, help="Forecast origins (default 52; 10 for monthly data).")
        parser.add_argument("--step", type=int, help="Steps between origins (default 7 days; 1 for monthly data).")
        parser.add_argument("--seeds", type=int, default=3, help="Seeds per recurrent model (default 3).")
        parser.add_argument("--models", help="Comma-separated models (default all): " + _model_names())
        parser.add_argument("--epochs", type=int, help="Training epochs of the recurrent models (cheaper runs).")
        parser.add_argument(
            "--skip-invalid-series",
            action="store_true",
            help="In a panel, leave out series with gaps or bad values (listed) instead of refusing the file.",
        )
        parser.add_argument(
            "--pieces",
            metavar="DIR",
            help="Keep each model's forecasts per origin in DIR and reuse them when run again on the same data and "
            "options (resume an interrupted run, add a model or origins, print the table again).",
        )
        parser.add_argument(
            "--averages",
            help="Also score plain averages of models' forecasts, e.g. 'gru+lstm,gru+lstm+lightgbm' (read off the "
            "backtest: nothing more is fitted).",
        )
        parser.add_argument("--markdown", action="store_true", help="Print the table in Markdown.")
        parser.add_argument("--title", help="A title line above the table.")

    def handle(self, *args: Any, **options: Any) -> None:
        from ai.forecasting.engine import calendar as engine_calendar
        from ai.forecasting.engine.backtest import backtest
        from ai.forecasting.engine.csvdata import CsvError, read_csv
        from ai.forecasting.engine.models import MODEL_NAMES
        from ai.forecasting.engine.pieces import DirectoryPieceStore
        from ai.forecasting.engine.report import averages_table, format_table

        models = None
        if options["models"]:
            models = [m.strip() for m in options["models"].split(",") if m.strip()]
            unknown = [m for m in models if m not in MODEL_NAMES]
            if unknown:
                raise CommandError(f"Unknown model(s): {', '.join(unknown)}. Choose from: {_model_names()}.")

        averages = [
            [m.strip() for m in group.split("+") if m.strip()] for group in (options["averages"] or "").split(",")
        ]
        averages = [group for group in averages if group]
        unknown = sorted({m for group in averages for m in group if m not in MODEL_NAMES})
        if unknown:
            raise CommandError(f"--averages: unknown model(s) {', '.join(unknown)}. Choose from: {_model_names()}.")

        problems: list[str] = []
        if options["csv"]:
            known = options["known_columns"]
            known_arg: str | list[str] | None = None if known.lower() == "none" else known
            holiday_columns = [c.strip() for c in (options["holiday_columns"] or "").split(",") if c.strip()]
            try:
                series = read_csv(
                    options["csv"],
                    date_column=options["date_column"],
                    value_column=options["value_column"],
                    key_column=options["key_column"],
                    known_columns=_with_columns(known_arg, holiday_columns),
                    skip_invalid_series=options["skip_invalid_series"],
                    problems=problems,
                )
            except CsvError as exc:
                raise CommandError(exc.message) from exc
            calendar_source = options["calendar"] or "none"
            if holiday_columns:
                calendar = _calendar_from_columns(series, holiday_columns)
                calendar_source = "columns " + ",".join(holiday_columns)
            else:
                calendar = self._calendar(engine_calendar, calendar_source)
            source = options["csv"]
        else:
            try:
                from ai.forecasting.training_data import hospital_series
            except ImportError as exc:
                raise CommandError(
                    "The hospital's training data is not available (ai.forecasting.training_data.hospital_series "
                    f"cannot be imported: {exc}). Evaluate a CSV with --csv instead."
                ) from exc
            from ai.forecasting import conf

            calendar_source = options["calendar"] or conf.calendar_name()
            calendar = self._calendar(engine_calendar, calendar_source)
            series = [s for s in hospital_series() if len(s.values)]
            if not series:
                raise CommandError("The hospital has no ward census history to evaluate.")
            source = "the hospital's wards"

        monthly = series[0].freq == "M"
        horizon = options["horizon"] or (3 if monthly else 14)
        origins = options["origins"] or (10 if monthly else 52)
        step = options["step"] or (1 if monthly else 7)
        if horizon < 1 or origins < 1 or step < 1 or options["seeds"] < 1:
            raise CommandError("--horizon, --origins, --step and --seeds must be at least 1.")
        model_options: dict[str, dict[str, Any]] = {}
        if options["epochs"] is not None:
            model_options = {m: {"epochs": options["epochs"]} for m in ("gru", "lstm")}

        known_names = sorted({name for s in series for name in s.known})
        self.stderr.write(
            f"Backtesting {len(series)} series from {source} "
            f"({'monthly' if monthly else 'daily'}; known ahead: {', '.join(known_names) or 'nothing'}; "
            f"holiday calendar: {calendar_source}) ..."
        )
        for problem in problems:
            self.stderr.write(f"  {problem}")
        started = time.perf_counter()
        verbose = options["verbosity"] >= 2

        def progress(message: str, fraction: float) -> None:
            if verbose:
                self.stderr.write(f"  [{fraction * 100:5.1f}%] {message}")
            elif sys.stderr.isatty():
                sys.stderr.write(f"\r  {fraction * 100:5.1f}% {message[:90]:<90}")
                sys.stderr.flush()

        try:
            result = backtest(
                series,
                horizon=horizon,
                n_origins=origins,
                step=step,
                models=models,
                seeds=options["seeds"],
                calendar=calendar,
                progress=progress,
                options=model_options,
                store=DirectoryPieceStore(options["pieces"]) if options["pieces"] else None,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if sys.stderr.isatty() and not verbose:
            sys.stderr.write("\n")
        result.notes.extend(problems)
        self.stdout.write(format_table(result, markdown=options["markdown"], title=options["title"]))
        if averages:
            try:
                self.stdout.write("\n" + averages_table(result, averages, markdown=options["markdown"]))
            except ValueError as exc:
                raise CommandError(f"--averages: {exc}") from exc
        pieces = result.details.get("pieces")
        reused = f" ({pieces['reused']} of {pieces['reused'] + pieces['computed']} forecasts reused)" if pieces else ""
        self.stderr.write(f"Done in {time.perf_counter() - started:.0f} s{reused}.")

    @staticmethod
    def _calendar(engine_calendar: Any, value: str) -> Any:
        try:
            return engine_calendar.resolve(value)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc


def _model_names() -> str:
    from ai.forecasting.engine.models import MODEL_NAMES

    return ", ".join(MODEL_NAMES)


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None or value == "auto":
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def _with_columns(known: str | list[str] | None, extra: list[str]) -> str | list[str] | None:
    """The known-ahead columns to read, plus the holiday columns: each holiday's own flag stays a known-ahead
    feature (Christmas and the day after behave differently), and together they make the calendar."""
    if not extra:
        return known
    if known == "auto":
        return "auto"  # 0/1 holiday columns are found by "auto" already; checked after reading
    return [*_as_list(known), *[c for c in extra if c not in _as_list(known)]]


def _calendar_from_columns(series: list[Any], columns: list[str]) -> Any:
    from ai.forecasting.engine.calendar import HolidayCalendar

    days: dict[Any, str] = {}
    for s in series:
        for column in columns:
            if column not in s.known:
                raise CommandError(f"--holiday-columns: no 0/1 column {column!r} in the file.")
            for day, flag in zip(s.dates, s.known[column], strict=False):
                if flag:
                    days.setdefault(day, column)
    return HolidayCalendar.from_days(days, label="columns " + ",".join(columns))
