"""Fixtures of the formulary tests."""

import pytest

from pharmacy.services import formulary_seed_sync


@pytest.fixture
def formulary(db):
    """The essential medicines seed, present whatever earlier transactional tests emptied.

    The migration loads it; a transactional test elsewhere in the suite truncates every table afterwards,
    so tests that need the seed sync it (a no-op when it is already there).
    """
    formulary_seed_sync()
