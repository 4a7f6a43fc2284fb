"""Fill in what alerts raised before the inbox lacked: a condition key, first/last seen times, a resolution.

Existing alerts each get a key of their own ("<kind>:<source>"), so none is merged with another after the
fact; new alerts use the condition keys of ai.services. An alert marked resolved without a resolution
(only possible by hand) gets its last change as the time and a note saying so. Reversible: the reverse
step leaves the rows as they are (0002's reverse drops the columns).
"""

from django.db import migrations
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat

LEGACY_NOTE = "Resolved before resolutions were recorded."


def backfill(apps, schema_editor):
    Alert = apps.get_model("ai", "Alert")
    Alert.objects.filter(dedup_key="").update(
        dedup_key=Concat(F("kind"), Value(":"), Cast("source_id", CharField()), output_field=CharField()),
        first_seen_at=F("created_at"),
        last_seen_at=F("created_at"),
    )
    Alert.objects.filter(status="resolved", resolved_at__isnull=True).update(resolved_at=F("updated_at"))
    Alert.objects.filter(status="resolved", resolution_note="").update(resolution_note=LEGACY_NOTE)


class Migration(migrations.Migration):
    dependencies = [("ai", "0002_alert_inbox")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
