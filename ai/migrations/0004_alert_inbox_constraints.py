"""Constraints that hold once 0003 has filled in the condition keys and resolutions of existing alerts."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ai", "0003_alert_inbox_backfill")]

    operations = [
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["open", "acknowledged"])),
                fields=("dedup_key",),
                name="ai_alert_one_active_per_condition",
            ),
        ),
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.CheckConstraint(
                condition=models.Q(("dedup_key", ""), _negated=True), name="ai_alert_dedup_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("resolved_at__isnull", False),
                        ("status", "resolved"),
                        models.Q(("resolution_note", ""), _negated=True),
                    ),
                    models.Q(
                        models.Q(("status", "resolved"), _negated=True),
                        ("resolution_note", ""),
                        ("resolved_at__isnull", True),
                        ("resolved_by__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="ai_alert_resolution",
            ),
        ),
    ]
