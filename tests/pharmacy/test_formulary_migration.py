"""The data migration loads the seed and its reverse removes exactly the seed."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from pharmacy.formulary_data import ESSENTIAL_MEDICINES
from pharmacy.models import Drug

SEED = ("pharmacy", "0002_essential_medicines")
BEFORE = ("pharmacy", "0001_formulary")


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate(target if isinstance(target, list) else [target])
    return executor


@pytest.mark.django_db
def test_the_migration_loads_the_essential_medicines_and_its_reverse_removes_only_them():
    # given: a drug of the hospital's own besides the seed
    own = Drug.objects.create(
        generic_name_en="House mouthwash", generic_name_zh="院内漱口液", form=Drug.Form.OTHER, strength="250 mL",
        route="other", atc_code="A01AD",
    )  # fmt: skip
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()

    # when: unapplying the seed migration
    _migrate(BEFORE)

    # then: the seed is gone, the hospital's drug stays
    assert list(Drug.objects.values_list("pk", flat=True)) == [own.pk]

    # when: applying it again
    _migrate(leaves)

    # then: every seed row is back
    assert Drug.objects.count() == len(ESSENTIAL_MEDICINES) + 1 >= 301
    amoxicillin = Drug.objects.get(generic_name_en="Amoxicillin", form=Drug.Form.CAPSULE, strength="500 mg")
    assert (amoxicillin.generic_name_zh, amoxicillin.atc_code, amoxicillin.route) == ("阿莫西林", "J01CA04", "oral")
    assert amoxicillin.is_active
    assert Drug.objects.filter(generic_name_en__startswith="Insulin", high_alert=False).count() == 0
    assert Drug.objects.filter(generic_name_zh="").count() == 0
