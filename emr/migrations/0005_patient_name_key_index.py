"""A GiST trigram index on "family_name given_name" (emr.models.PatientNameKey) for nearest-name search."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("emr", "0004_signed_notes_immutable")]

    operations = [
        migrations.RunSQL(
            sql="CREATE INDEX emr_patient_name_key_trgm ON emr_patient "
            "USING gist ((family_name || ' ' || given_name) gist_trgm_ops)",
            reverse_sql="DROP INDEX IF EXISTS emr_patient_name_key_trgm",
        )
    ]
