"""Test-only models (no migrations: pytest-django creates their tables directly)."""

from django.db import models

from hospital.core.fields import BlindIndexField, EncryptedTextField, normalize_identifier
from hospital.core.models import BaseModel


class SecretNote(BaseModel):
    """Exercises field encryption: a free-text encrypted column and a searchable encrypted identifier."""

    title = models.CharField(max_length=100, blank=True)
    body = EncryptedTextField(null=True, blank=True)
    national_id = EncryptedTextField(
        null=True, blank=True, max_length=40, blind_index="national_id_index", normalizer=normalize_identifier
    )
    national_id_index = BlindIndexField()

    def __str__(self) -> str:
        return self.title or str(self.external_id)
