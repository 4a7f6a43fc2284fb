"""Load the essential medicines seed (pharmacy.formulary_data) into the formulary.

The migration imports the data module and the sync service instead of embedding a copy of the
rows: the seed is reference data maintained in one place, and the service takes the historical
Drug model, so it never reaches for the current one. A fresh database gets the seed as it is when
migrated; an existing one picks up later seed edits with `manage.py formulary_load`. Both modules
must therefore keep working with the historical model (no model methods, no later fields).

Reversing removes the seed's rows (matched on English name, form and strength) and leaves the
hospital's own drugs alone; it fails while medication orders still point at a seed drug.
"""

from django.db import migrations


def essential_medicines_load(apps, schema_editor):
    from pharmacy.services import formulary_seed_sync

    formulary_seed_sync(drug_model=apps.get_model("pharmacy", "Drug"), using=schema_editor.connection.alias)


def essential_medicines_remove(apps, schema_editor):
    from pharmacy.formulary_data import ESSENTIAL_MEDICINES

    drug_model = apps.get_model("pharmacy", "Drug")
    seed_keys = {(name, form, strength) for name, _zh, form, strength, *_rest in ESSENTIAL_MEDICINES}
    drugs = drug_model.objects.using(schema_editor.connection.alias)
    ids = [
        pk
        for pk, name, form, strength in drugs.filter(generic_name_en__in={key[0] for key in seed_keys}).values_list(
            "pk", "generic_name_en", "form", "strength"
        )
        if (name, form, strength) in seed_keys
    ]
    drugs.filter(pk__in=ids).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pharmacy", "0001_formulary"),
    ]

    operations = [
        migrations.RunPython(essential_medicines_load, essential_medicines_remove),
    ]
