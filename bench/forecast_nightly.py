"""The nightly forecast's duration, stage by stage, for 20 wards with 3 years of census each.

Creates a throwaway database next to DATABASE_URL's, migrates it, builds 20 wards (the demo hospital's eight
ward profiles, repeated: general medicine, cardiology, respiratory, surgery, orthopaedics, paediatrics,
maternity, intensive care) and 3 years of simulated daily census ending yesterday (hospital.demo.census:
weekly and yearly seasonality, Chinese holidays, trend, transfers), then runs tonight's job in process exactly
as the worker does (ai.forecasting.services.forecast_nightly_run) with the nightly settings (backtest origins,
seeds, candidate models from the FORECAST_* settings unless given here) for three nights: the first night
(a backtest with nothing from earlier nights: every model at every origin), the ordinary night after it, which
retrains the winner on one more day, and the weekly backtest night a week after the first (FORECAST_BACKTEST_
EVERY_DAYS = 7), which fits only the new origin and reuses the other origins' forecasts (backtest pieces). It
prints the seconds of each stage of the three, each candidate's backtest time and error, and the model that
serves. Model files go to a temporary directory. Drops the database at the end.

    python bench/forecast_nightly.py [--wards 20] [--years 3] [--origins 10] [--seeds 3] [--models a,b]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BASE_DIR))
from _machine import machine_line, table  # noqa: E402
from api_read import throwaway_database  # noqa: E402

STAGES = ("data", "backtest", "train", "forecast", "plan")


def build_hospital(wards: int, years: int) -> tuple[int, int]:
    """Wards with their beds and `years` of census ending yesterday; returns (wards, census rows)."""
    from dataclasses import replace

    from django.core.management import call_command
    from django.utils import timezone

    from hospital.demo.catalogue import DEPARTMENTS, WARDS
    from hospital.demo.census import WardInput, simulate
    from scheduling.models import Bed, Department, Ward, WardDailyCensus

    call_command("migrate", verbosity=0)
    departments = {
        spec.code: Department.objects.create(
            code=spec.code, name_en=spec.name_en, name_zh=spec.name_zh, specialty=spec.specialty
        )
        for spec in DEPARTMENTS
    }
    inputs, by_code = [], {}
    for index in range(wards):
        spec = WARDS[index % len(WARDS)]
        copy = index // len(WARDS) + 1
        code = f"{spec.code[:-1]}{copy}"
        ward = Ward.objects.create(
            department=departments[spec.department_code],
            code=code,
            name_en=f"{spec.name_en} {copy}",
            name_zh=f"{spec.name_zh}{copy}",
            specialty=spec.specialty,
        )
        Bed.objects.bulk_create(Bed(ward=ward, code=f"{n:02d}") for n in range(1, spec.beds + 1))
        by_code[code] = ward
        profile = replace(spec.census, transfer_to={"ICU1": 1.0} if spec.code != "ICU1" else {"GM1": 1.0})
        inputs.append(WardInput(code, spec.beds, profile))
    end = timezone.localdate() - timedelta(days=1)
    start = end - timedelta(days=round(365.25 * years) - 1)
    rows = [
        WardDailyCensus(
            ward=by_code[day.ward_code],
            date=day.date,
            admissions=day.admissions,
            discharges=day.discharges,
            transfers_in=day.transfers_in,
            transfers_out=day.transfers_out,
            occupied_at_midnight=day.occupied_at_midnight,
            capacity=day.capacity,
        )
        for day in simulate(wards=inputs, start=start, end=end, seed=7)
    ]
    WardDailyCensus.objects.bulk_create(rows, batch_size=5000)
    return len(by_code), len(rows)


def _night(run_night, night, options):
    started = time.perf_counter()
    run = run_night(night=night, options=options)
    wall = time.perf_counter() - started
    if run.status != "succeeded":
        print(f"the run of {night} failed: {run.error}", file=sys.stderr)
        return None, wall
    return run, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wards", type=int, default=20)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--origins", type=int, default=None, help="backtest origins (default: the setting)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per network (default: the setting)")
    parser.add_argument("--models", default=None, help="comma-separated candidates (default: the setting)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hospital.settings")
    base_url = os.environ.get("DATABASE_URL") or ""
    if not base_url:
        from hospital.core.embedded import embedded_database_url

        base_url = embedded_database_url()
    with throwaway_database(base_url) as url, tempfile.TemporaryDirectory() as models_dir:
        os.environ["DATABASE_URL"] = url
        import django

        django.setup()
        from django.conf import settings
        from django.utils import timezone

        from ai.forecasting import conf
        from ai.forecasting.models import BedPlanEntry, ForecastModel, WardForecast
        from ai.forecasting.services import forecast_nightly_run

        settings.FORECAST_ARTIFACT_DIR = models_dir
        started = time.perf_counter()
        ward_count, census_rows = build_hospital(args.wards, args.years)
        build_seconds = time.perf_counter() - started
        options = {
            key: value
            for key, value in {
                "origins": args.origins,
                "seeds": args.seeds,
                "models": args.models.split(",") if args.models else None,
            }.items()
            if value is not None
        }
        print(
            f"Nightly forecast: {ward_count} wards x {args.years} years ({census_rows:,} census rows, built in "
            f"{build_seconds:.0f} s); {options.get('origins', conf.backtest_origins())} weekly origins, "
            f"{options.get('seeds', conf.backtest_seeds())} seeds per network, candidates: "
            f"{', '.join(options.get('models') or conf.candidate_models() or ['all'])}\n"
        )
        settings.FORECAST_BACKTEST_EVERY_DAYS = 7
        tonight = timezone.localdate()
        # The first night (a full backtest), the ordinary night after it, and the weekly backtest a week later.
        nights = [tonight - timedelta(days=7), tonight - timedelta(days=6), tonight]
        runs, walls = [], []
        for night in nights:
            run, wall = _night(forecast_nightly_run, night, options)
            if run is None:
                return 1
            runs.append(run)
            walls.append(wall)
        first_run, ordinary_run, weekly_run = runs
        if "backtest" not in first_run.stage_seconds or "backtest" not in weekly_run.stage_seconds:
            print("expected a backtest on the first and the weekly night", file=sys.stderr)
            return 1
        model = ForecastModel.objects.get(status="serving")
        rows = [("stage", "first night (s)", "ordinary night (s)", "weekly backtest night (s)")]
        for stage in STAGES:
            rows.append((stage, *(f"{run.stage_seconds.get(stage, 0.0):.1f}" for run in runs)))
        rows.append(("total (run row)", *(f"{run.duration_seconds:.1f}" for run in runs)))
        rows.append(("total (wall clock)", *(f"{wall:.1f}" for wall in walls)))
        print(table(rows))
        pieces = [next((n for n in run.notes if n.get("code") == "backtest_pieces"), None) for run in runs]
        print(
            "backtest forecasts (model x origin) fitted / reused: "
            + "; ".join(
                f"{label} {p['computed']} / {p['reused']}"
                for label, p in zip(("first night", "weekly night"), (pieces[0], pieces[2]), strict=True)
                if p
            )
        )
        print()
        rows = [("candidate", "fit s per origin", "MAE h1-14", "MASE", "80% cov.", "95% cov.", "vs best baseline")]
        for name, score in sorted(model.metrics.items(), key=lambda item: item[1]["mae_overall"]):
            interval = model.bootstrap.get(name)
            cov80, cov95 = score["coverage80"], score["coverage95"]
            rows.append(
                (
                    name + (" (serves)" if name == model.model_name else ""),
                    f"{score['train_seconds']:.1f}",
                    f"{score['mae_overall']:.2f}",
                    f"{score['mase_overall']:.3f}",
                    f"{sum(cov80) / len(cov80):.0f}%",
                    f"{sum(cov95) / len(cov95):.0f}%",
                    f"{interval[0] * 100:+.1f}% .. {interval[1] * 100:+.1f}%"
                    if interval and name != model.best_baseline
                    else "-",
                )
            )
        print(table(rows))
        print(
            f"\nserving: {model.model_name} (backtest of the weekly night); per night "
            f"{WardForecast.objects.filter(run=ordinary_run).count()} forecast rows, "
            f"{BedPlanEntry.objects.filter(run=ordinary_run).count()} plan entries"
        )
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"{machine_line()}; load average at the end {load}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
