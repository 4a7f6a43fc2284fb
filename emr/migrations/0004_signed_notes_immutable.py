"""Triggers: a signed note, its diagnoses and its provenance never change (filled in by the notes work)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("emr", "0003_icd10_codes")]

    operations: list = []
