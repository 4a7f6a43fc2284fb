"""manage.py census_snapshot [--date YYYY-MM-DD] [--overwrite]: take a day's ward census from bed stays."""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from scheduling.services.census import census_snapshot_take


class Command(BaseCommand):
    help = (
        "Write each ward's census row for one day (default: yesterday in the hospital's time zone) from its "
        "bed stays. Rows that already exist for the day (imported or demo history) are kept unless --overwrite."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="day", type=date.fromisoformat, help="The day, YYYY-MM-DD.")
        parser.add_argument(
            "--overwrite", action="store_true", help="Recompute rows that already exist for the day from bed stays."
        )

    def handle(self, *args, day=None, overwrite=False, **options):
        if day is None:
            day = timezone.localdate(timezone=timezone.get_default_timezone()) - timedelta(days=1)
        try:
            rows = census_snapshot_take(day=day, overwrite=overwrite)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        for row in rows:
            self.stdout.write(
                f"{row.ward.code}: occupied {row.occupied_at_midnight}/{row.capacity}, admissions {row.admissions}, "
                f"discharges {row.discharges}, transfers in {row.transfers_in}, out {row.transfers_out}"
            )
        self.stdout.write(self.style.SUCCESS(f"Census of {day.isoformat()}: {len(rows)} ward rows."))
