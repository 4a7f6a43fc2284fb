"""`manage.py seed_demo`: load the demo hospital (idempotent). `make run` calls it with --once."""

import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from hospital.core.request_context import RequestContext, reset_request_context, set_request_context
from hospital.demo import services


class Command(BaseCommand):
    help = (
        "Load the demo hospital: departments, wards and beds, staff for every role, patients, and years of "
        "daily ward census. Safe to run again: only what is missing is added."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Do nothing when the demo hospital is already loaded (wards and census up to yesterday).",
        )
        parser.add_argument(
            "--days", type=int, default=services.DEFAULT_DAYS, help="Days of census history, ending yesterday."
        )
        parser.add_argument("--patients", type=int, default=services.DEFAULT_PATIENTS, help="Number of patients.")
        parser.add_argument("--seed", type=int, default=services.DEFAULT_SEED, help="Random seed (deterministic).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load demo data (with its published password) even in production mode.",
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION and not options["allow_production"]:
            raise CommandError(
                "Refusing to load the demo hospital in production mode: it creates accounts with a published "
                "password. Pass --allow-production if you really mean it."
            )
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        if options["patients"] < 0:
            raise CommandError("--patients cannot be negative.")
        if options["once"] and services.demo_hospital_loaded(patient_count=options["patients"], seed=options["seed"]):
            self.stdout.write("Demo hospital already loaded; nothing to do.")
            return

        started = time.monotonic()
        show_bar = not options["no_progress"] and sys.stderr.isatty()
        token = set_request_context(RequestContext(channel="command"))
        try:
            with tqdm(
                total=services.demo_seed_size(days=options["days"]),
                desc="Seeding demo hospital",
                unit="step",
                disable=not show_bar,
                file=sys.stderr,
            ) as bar:
                summary = services.demo_hospital_seed(
                    days=options["days"],
                    patient_count=options["patients"],
                    seed=options["seed"],
                    progress=bar.update,
                )
        finally:
            reset_request_context(token)
        self.stdout.write(self.style.SUCCESS(f"{summary.line()} ({time.monotonic() - started:.1f}s)"))
