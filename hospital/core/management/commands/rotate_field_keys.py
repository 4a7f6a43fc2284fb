"""Move every encrypted column to the newest key of FIELD_ENCRYPTION_KEYS, and rebuild blind indexes on request.

Rotation procedure: add the new key with a higher version (old ones stay), deploy, run this command
until it reports nothing left to re-encrypt, then the old key may be retired. After changing
BLIND_INDEX_KEY run it with --reindex (exact-match search misses rows that are not yet reindexed).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.db.models.functions import Cast

from hospital.core import crypto
from hospital.core.fields import DecryptionError, EncryptedTextField, models_with_encrypted_fields


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted model field under the newest key version (rows already on it are skipped); "
        "--reindex also rebuilds blind indexes after a BLIND_INDEX_KEY change."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; write nothing.")
        parser.add_argument(
            "--reindex", action="store_true", help="Recompute every blind index with the current BLIND_INDEX_KEY."
        )
        parser.add_argument("--batch-size", type=int, default=500, help="Rows locked and rewritten per transaction.")
        parser.add_argument(
            "--model",
            action="append",
            dest="model_labels",
            metavar="APP_LABEL.MODEL",
            help="Only this model (repeatable). Default: every installed model with encrypted fields.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, dry_run, reindex, batch_size, model_labels, database, verbosity, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        current = crypto.current_key_version()
        targets = models_with_encrypted_fields()
        if model_labels:
            wanted = {label.lower() for label in model_labels}
            unknown = wanted - {model._meta.label_lower for model, _ in targets}
            if unknown:
                raise CommandError(f"No installed model with encrypted fields: {', '.join(sorted(unknown))}.")
            targets = [(model, fields) for model, fields in targets if model._meta.label_lower in wanted]

        self.stdout.write(f"Newest key version: {current}{' (dry run, nothing is written)' if dry_run else ''}")
        total_reencrypted = total_reindexed = 0
        for model, fields in targets:
            reencrypted, reindexed = self._process_model(
                model, fields, current=current, reindex=reindex, dry_run=dry_run, batch_size=batch_size,
                using=database, verbosity=verbosity,
            )  # fmt: skip
            total_reencrypted += reencrypted
            total_reindexed += reindexed
        verb = "would be" if dry_run else "were"
        summary = f"Done: {total_reencrypted} rows {verb} re-encrypted under key version {current}"
        if reindex:
            summary += f"; {total_reindexed} rows {verb} reindexed"
        self.stdout.write(self.style.SUCCESS(summary + "."))

    def _process_model(
        self,
        model: type[models.Model],
        fields: list[EncryptedTextField],
        *,
        current: int,
        reindex: bool,
        dry_run: bool,
        batch_size: int,
        using: str,
        verbosity: int,
    ) -> tuple[int, int]:
        label = model._meta.label
        manager = model._base_manager.db_manager(using)
        indexed = [f for f in fields if f.blind_index] if reindex else []
        # Cast to plain text so the SQL filters below may use lookups the encrypted field itself refuses.
        aliases = {f"_token_{f.attname}": Cast(f.attname, output_field=models.TextField()) for f in fields}
        prefix = crypto.token_prefix(current)
        present, stale = models.Q(), models.Q()
        for alias in aliases:
            present |= models.Q(**{f"{alias}__isnull": False})
            stale |= models.Q(**{f"{alias}__isnull": False}) & ~models.Q(**{f"{alias}__startswith": prefix})
        rows_with_values = manager.alias(**aliases).filter(present)
        todo = manager.alias(**aliases).filter(present if indexed else stale)
        with_values = rows_with_values.count()

        if dry_run:
            stale_count = manager.alias(**aliases).filter(stale).count()
            reindex_count = with_values if indexed else 0
            line = f"{label}: {stale_count} would be re-encrypted, {with_values - stale_count} already on key {current}"
            if indexed:
                line += f", {reindex_count} would be reindexed"
            self.stdout.write(line)
            return stale_count, reindex_count

        reencrypted = reindexed = 0
        attnames = [f.attname for f in fields]
        last_pk = None
        while True:
            with transaction.atomic(using=using):
                batch = todo.order_by("pk")
                if last_pk is not None:
                    batch = batch.filter(pk__gt=last_pk)
                # Row locks: a concurrent save of the same row waits instead of being overwritten or overwriting.
                rows = list(batch.select_for_update().values_list("pk", "external_id", *attnames)[:batch_size])
                if not rows:
                    break
                for pk, external_id, *values in rows:
                    changes, moved = self._row_changes(
                        model, pk, external_id, fields, values, current=current, indexed=indexed
                    )
                    if changes:
                        manager.filter(pk=pk).update(**changes)
                    reencrypted += moved
                    reindexed += any(f.blind_index in changes for f in indexed)
                last_pk = rows[-1][0]
            if verbosity >= 2:
                self.stdout.write(f"  {label}: {reencrypted} re-encrypted, {reindexed} reindexed so far")

        if indexed:
            # A blank value has no index; clear any left from an earlier value so it cannot match.
            for field in indexed:
                assert field.blind_index is not None  # `indexed` holds only fields with a blind index
                reindexed += (
                    manager.filter(**{f"{field.attname}__isnull": True})
                    .exclude(**{f"{field.blind_index}__isnull": True})
                    .update(**{field.blind_index: None})
                )

        line = f"{label}: {reencrypted} re-encrypted, {with_values - reencrypted} already on key {current}"
        if indexed:
            line += f", {reindexed} reindexed"
        self.stdout.write(line)
        return reencrypted, reindexed

    def _row_changes(self, model, pk, external_id, fields, values, *, current, indexed) -> tuple[dict, bool]:
        changes = {}
        for field, value in zip(fields, values, strict=True):
            if value is None:
                continue
            try:
                outdated = value.key_version != current
                plaintext = field.decrypt(value, external_id=external_id) if outdated or field in indexed else None
            except DecryptionError as exc:
                # Stop rather than skip: an unreadable row needs a person, and this batch is rolled back.
                raise CommandError(f"{model._meta.label} id={pk} field {field.name}: {exc}") from exc
            if outdated:
                changes[field.attname] = field.encrypt(plaintext, external_id=external_id)
            if field in indexed:
                changes[field.blind_index] = field.blind_index_for(plaintext)
        return changes, any(f.attname in changes for f in fields)
