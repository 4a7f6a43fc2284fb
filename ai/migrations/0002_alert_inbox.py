import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ai", "0001_alerts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AlertEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "external_id",
                    models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="external id"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="created at")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("raised", "Raised"),
                            ("repeated", "Repeated"),
                            ("escalated", "Escalated"),
                            ("acknowledged", "Acknowledged"),
                            ("assigned", "Assigned"),
                            ("resolved", "Resolved"),
                        ],
                        max_length=15,
                        verbose_name="action",
                    ),
                ),
                (
                    "from_status",
                    models.CharField(
                        blank=True,
                        choices=[("open", "Open"), ("acknowledged", "Acknowledged"), ("resolved", "Resolved")],
                        max_length=15,
                        verbose_name="from status",
                    ),
                ),
                (
                    "to_status",
                    models.CharField(
                        choices=[("open", "Open"), ("acknowledged", "Acknowledged"), ("resolved", "Resolved")],
                        max_length=15,
                        verbose_name="to status",
                    ),
                ),
                (
                    "severity",
                    models.CharField(
                        choices=[("medium", "Medium"), ("high", "High"), ("critical", "Critical")],
                        max_length=10,
                        verbose_name="severity",
                    ),
                ),
                ("note", models.TextField(blank=True, verbose_name="note")),
                ("source_id", models.UUIDField(blank=True, null=True, verbose_name="source")),
                ("detail", models.JSONField(blank=True, default=dict, verbose_name="detail")),
            ],
            options={
                "verbose_name": "alert event",
                "verbose_name_plural": "alert events",
                "ordering": ["alert_id", "created_at", "id"],
                "abstract": False,
            },
        ),
        migrations.RemoveConstraint(
            model_name="alert",
            name="ai_alert_kind",
        ),
        migrations.AddField(
            model_name="alert",
            name="assigned_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="assigned at"),
        ),
        migrations.AddField(
            model_name="alert",
            name="assigned_to",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="assigned_alerts",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="alert",
            name="dedup_key",
            field=models.CharField(default="", max_length=200, verbose_name="condition key"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="alert",
            name="first_seen_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="first seen at"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="alert",
            name="last_seen_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="last seen at"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="alert",
            name="occurrences",
            field=models.PositiveIntegerField(default=1, verbose_name="occurrences"),
        ),
        migrations.AddField(
            model_name="alert",
            name="resolution",
            field=models.JSONField(blank=True, default=dict, verbose_name="resolution"),
        ),
        migrations.AddField(
            model_name="alert",
            name="resolution_note",
            field=models.TextField(blank=True, verbose_name="resolution note"),
        ),
        migrations.AddField(
            model_name="alert",
            name="resolved_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="resolved at"),
        ),
        migrations.AddField(
            model_name="alert",
            name="resolved_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="alert",
            name="kind",
            field=models.CharField(
                choices=[
                    ("news2", "NEWS2"),
                    ("critical_lab", "Critical laboratory value"),
                    ("conflicting_data", "Conflicting data"),
                    ("census", "Census outside the forecast"),
                    ("vital_drift", "Vital-sign drift"),
                ],
                max_length=20,
                verbose_name="kind",
            ),
        ),
        migrations.AlterField(
            model_name="alert",
            name="patient",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="alerts",
                to="emr.patient",
            ),
        ),
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(fields=["dedup_key", "-last_seen_at"], name="ai_alert_dedup_key_idx"),
        ),
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(fields=["assigned_to", "status"], name="ai_alert_assignee_idx"),
        ),
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("kind__in", ["news2", "critical_lab", "conflicting_data", "census", "vital_drift"])
                ),
                name="ai_alert_kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "census"), ("ward__isnull", False)),
                    models.Q(models.Q(("kind", "census"), _negated=True), ("patient__isnull", False)),
                    _connector="OR",
                ),
                name="ai_alert_patient_or_ward",
            ),
        ),
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("assigned_at__isnull", True), ("assigned_to__isnull", True)),
                    models.Q(("assigned_at__isnull", False), ("assigned_to__isnull", False)),
                    _connector="OR",
                ),
                name="ai_alert_assignment",
            ),
        ),
        migrations.AddConstraint(
            model_name="alert",
            constraint=models.CheckConstraint(
                condition=models.Q(("last_seen_at__gte", models.F("first_seen_at")), ("occurrences__gte", 1)),
                name="ai_alert_occurrences",
            ),
        ),
        migrations.AddField(
            model_name="alertevent",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="alertevent",
            name="alert",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="events", to="ai.alert"),
        ),
        migrations.AddIndex(
            model_name="alertevent",
            index=models.Index(fields=["source_id"], name="ai_alertevent_source_idx"),
        ),
        migrations.AddConstraint(
            model_name="alertevent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("source_id__isnull", False)),
                fields=("alert", "source_id"),
                name="ai_alertevent_source_once",
            ),
        ),
        migrations.AddConstraint(
            model_name="alertevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("action__in", ["raised", "repeated", "escalated", "acknowledged", "assigned", "resolved"])
                ),
                name="ai_alertevent_action",
            ),
        ),
        migrations.AddConstraint(
            model_name="alertevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("from_status__in", ["", "open", "acknowledged", "resolved"]),
                    ("to_status__in", ["open", "acknowledged", "resolved"]),
                ),
                name="ai_alertevent_statuses",
            ),
        ),
        migrations.AddConstraint(
            model_name="alertevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("severity__in", ["medium", "high", "critical"])), name="ai_alertevent_severity"
            ),
        ),
        migrations.AddConstraint(
            model_name="alertevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("action__in", ["raised", "repeated", "escalated"]), ("actor__isnull", False), _connector="OR"
                ),
                name="ai_alertevent_actor",
            ),
        ),
        migrations.AddConstraint(
            model_name="alertevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("action", "resolved"), _negated=True),
                    models.Q(("note", ""), _negated=True),
                    _connector="OR",
                ),
                name="ai_alertevent_resolution_note",
            ),
        ),
    ]
