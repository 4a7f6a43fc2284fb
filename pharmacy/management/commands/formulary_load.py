"""Load the formulary: the built-in essential medicines, or a hospital's own list from CSV."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from pharmacy.services import CSV_OPTIONAL_COLUMNS, CSV_REQUIRED_COLUMNS, formulary_csv_load, formulary_seed_sync


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Without --file: sync the built-in essential medicines into the formulary (after an upgrade changed them). "
        "With --file: create or update drugs from a UTF-8 CSV file whose first line names the columns "
        f"{', '.join(CSV_REQUIRED_COLUMNS)} (required) and {', '.join(CSV_OPTIONAL_COLUMNS)} (optional; "
        "synonyms separated by '|'). Drugs are matched on English name, form and strength. All or nothing: any "
        "invalid line is reported with its line number and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", dest="path", help="CSV file of the hospital's formulary.")
        parser.add_argument("--dry-run", action="store_true", help="Validate and count, then write nothing.")

    def handle(self, *args, path: str | None = None, dry_run: bool = False, **options):
        try:
            with transaction.atomic():
                result = self._load(path)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        except ValidationError as exc:
            problems = "\n".join(f"  {message}" for message in exc.messages)
            raise CommandError(f"The formulary was not loaded; nothing was written:\n{problems}") from exc
        suffix = " (dry run: nothing written)" if dry_run else ""
        self.stdout.write(
            f"Formulary: {result.created} created, {result.updated} updated, {result.unchanged} unchanged{suffix}."
        )

    def _load(self, path: str | None):
        if path is None:
            return formulary_seed_sync()
        try:
            # utf-8-sig: spreadsheet programs often start a UTF-8 CSV with a byte-order mark.
            with open(path, encoding="utf-8-sig", newline="") as stream:
                return formulary_csv_load(stream=stream)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text (at byte {exc.start}); save it as UTF-8 CSV.") from exc
