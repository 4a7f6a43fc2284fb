"""Verify the access log's hash chain: exit 0 when intact, 1 with the first broken row otherwise."""

import sys

from django.core.management.base import BaseCommand

from hospital.core.services.access_log import access_log_verify


class Command(BaseCommand):
    help = "Verify the access log's hash chain and report the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("--start-id", type=int, default=None, help="Start at this row, trusting the one before.")
        parser.add_argument("--batch-size", type=int, default=5000, help="Rows fetched per round trip.")

    def handle(self, *args, start_id=None, batch_size=5000, **options):
        result = access_log_verify(start_id=start_id, batch_size=batch_size)
        if result.ok:
            self.stdout.write(self.style.SUCCESS(f"OK: {result.rows_checked} rows, chain intact"))
            return
        self.stderr.write(
            self.style.ERROR(
                f"BROKEN: row {result.first_broken_id}: {result.reason} ({result.rows_checked} rows checked)"
            )
        )
        sys.exit(1)
