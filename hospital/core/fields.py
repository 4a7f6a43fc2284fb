"""Model fields that keep identifying data encrypted at rest, with a keyed blind index for exact-match search.

Declaring an encrypted, searchable column::

    class Patient(BaseModel):
        national_id = EncryptedTextField(
            _("national ID"), blank=True, null=True, blind_index="national_id_index", normalizer=normalize_identifier
        )
        national_id_index = BlindIndexField(unique=True)

    Patient.objects.filter(blind_index_lookup(Patient, "national_id", "1101 0119-9003 07777X"))

How it works, and why this way
------------------------------
The ciphertext is bound to its row (the row's ``external_id`` is associated data), but Django's
``from_db_value()`` never sees the model instance, so it cannot decrypt. Instead the field splits
the work between three places that each see what they need:

* ``from_db_value()`` wraps the column's text in a `Ciphertext` without opening it.
* The attribute descriptor (`EncryptedAttribute`) opens it on first access with the instance's
  ``external_id`` and keeps the plaintext on the instance. So a row whose token is damaged still
  lists fine; reading *that attribute* raises `DecryptionError`, loudly, never returning None.
* ``pre_save()`` (which, unlike ``get_db_prep_value()``, is handed the instance) seals the
  plaintext for the row. An attribute that was loaded but never read is written back as it was,
  unless its key version is old, in which case it moves to the newest key.

``get_db_prep_value()`` accepts only a `Ciphertext` or None. Whatever reaches the database by a
path that skips ``pre_save()`` therefore fails instead of writing plaintext: ``QuerySet.update(field=
"text")``, ``bulk_update()``, and raw saves such as ``loaddata``. ``save()``, ``create()`` and
``bulk_create()`` go through ``pre_save()`` and encrypt normally. Lookups other than ``isnull``
raise ``FieldError``: comparing plaintext with ciphertext would silently match nothing, so search
goes through the blind index instead. ``values()`` / ``values_list()`` yield `Ciphertext` objects
(there is no row to decrypt them against); use `EncryptedTextField.decrypt()` with the row's
external_id if you need the text there.

A `BlindIndexField` is derived, not stored by hand: while the source field holds plaintext on the
instance, reading the index attribute computes it (so ``full_clean()``'s unique check,
``bulk_create()`` and ``save()`` all see the right value); otherwise the stored value is used. After
a BLIND_INDEX_KEY change run ``manage.py rotate_field_keys --reindex``.

``dumpdata`` writes the plaintext (the serializer reads the attribute): treat its output as
patient data.
"""

import re
import uuid
from dataclasses import dataclass

from django import forms
from django.apps import apps
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext_lazy as _

from hospital.core import crypto
from hospital.core.crypto import (
    DecryptionError,
    FieldEncryptionError,
    Normalizer,
    UnknownKeyVersionError,
    normalize_identifier,
    normalize_text,
)

__all__ = [
    "BlindIndexField",
    "Ciphertext",
    "DecryptionError",
    "EncryptedTextField",
    "FieldEncryptionError",
    "PlaintextWriteError",
    "UnknownKeyVersionError",
    "blind_index_lookup",
    "encrypted_fields",
    "models_with_encrypted_fields",
    "normalize_identifier",
    "normalize_text",
]

_HEX_DIGEST = re.compile(rf"[0-9a-f]{{{crypto.BLIND_INDEX_LENGTH}}}")


class PlaintextWriteError(FieldEncryptionError):
    """Something tried to write an encrypted column without going through the field's encryption."""


@dataclass(frozen=True)
class Ciphertext:
    """An encrypted token as stored in the column; opened only with its row's external_id."""

    token: str

    @property
    def key_version(self) -> int:
        return crypto.token_key_version(self.token)

    def __repr__(self) -> str:
        # Never print the token itself into logs or tracebacks; the version is what operators need.
        try:
            return f"Ciphertext(key_version={self.key_version})"
        except DecryptionError:
            return "Ciphertext(malformed)"


class EncryptedAttribute(DeferredAttribute):
    """Decrypts lazily with the instance's external_id; a data descriptor so every read passes through it."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)  # loads a deferred column if needed
        if isinstance(value, Ciphertext):
            value = self.field.decrypt(value, external_id=instance.external_id)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """Text stored AES-256-GCM encrypted (see the module docstring); the Python value is str or None.

    Arguments beyond TextField's:
      blind_index: name of a `BlindIndexField` on the same model that indexes this value.
      normalizer: callable applied before indexing (default `normalize_text`); only with blind_index.
      label: the name bound into the ciphertext and the index key. Defaults to
        ``app_label.modelname.field_name``; set it explicitly to keep data readable across a rename.
    The model must have an ``external_id`` (hospital.core.models.BaseModel provides it). Prefer
    null=True: an empty value is then NULL, and the column can be added to a table that already has
    rows (a NOT NULL column would need a default, and a default cannot be encrypted without a row).
    """

    description = _("Encrypted text")
    descriptor_class = EncryptedAttribute

    def __init__(
        self,
        *args,
        blind_index: str | None = None,
        normalizer: Normalizer | None = None,
        label: str | None = None,
        **kwargs,
    ):
        self.blind_index = blind_index
        self.normalizer = normalizer
        self.label = label
        super().__init__(*args, **kwargs)

    # --- declaration -------------------------------------------------------------------------------

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for attr in ("blind_index", "normalizer", "label"):
            if getattr(self, attr) is not None:
                kwargs[attr] = getattr(self, attr)
        return name, path, args, kwargs

    def check(self, **kwargs):
        return [*super().check(**kwargs), *self._check_encryption_setup()]

    def _check_encryption_setup(self) -> list[checks.CheckMessage]:
        errors: list[checks.CheckMessage] = []
        opts = self.model._meta
        if not any(f.name == "external_id" for f in opts.get_fields()):
            errors.append(
                checks.Error(
                    "EncryptedTextField needs an 'external_id' field on its model "
                    "(use hospital.core.models.BaseModel).",
                    obj=self,
                    id="core.E101",
                )
            )
        # Field.__init__ sets db_index, but django-stubs does not declare it.
        if self.unique or self.db_index or self.primary_key:  # type: ignore[attr-defined]
            errors.append(
                checks.Error(
                    "An encrypted column cannot be unique or indexed (every token is different); put unique=True "
                    "on its BlindIndexField instead.",
                    obj=self,
                    id="core.E102",
                )
            )
        if self.blind_index is not None:
            try:
                target = opts.get_field(self.blind_index)
            except FieldDoesNotExist:
                target = None
            if not isinstance(target, BlindIndexField):
                errors.append(
                    checks.Error(
                        f"blind_index={self.blind_index!r} must name a BlindIndexField on {opts.label}.",
                        obj=self,
                        id="core.E103",
                    )
                )
        elif self.normalizer is not None:
            errors.append(checks.Error("normalizer is only used together with blind_index.", obj=self, id="core.E104"))
        return errors

    @property
    def encryption_label(self) -> str:
        return self.label or f"{self.model._meta.label_lower}.{self.name}"

    # --- encryption ----------------------------------------------------------------------------------

    def encrypt(self, plaintext: str, *, external_id: uuid.UUID | str) -> Ciphertext:
        """Seal `plaintext` for this column of the row `external_id` under the newest key."""
        return Ciphertext(crypto.encrypt_text(plaintext, label=self.encryption_label, external_id=external_id))

    def decrypt(self, value: Ciphertext | str, *, external_id: uuid.UUID | str) -> str:
        """Open a stored token of this column for the row `external_id`; raises DecryptionError on any failure."""
        token = value.token if isinstance(value, Ciphertext) else value
        return crypto.decrypt_text(token, label=self.encryption_label, external_id=external_id)

    def blind_index_for(self, value: str | None) -> str | None:
        """The blind-index digest of `value` for this column (None for None or a blank value)."""
        return crypto.blind_index(value, label=self.encryption_label, normalizer=self.normalizer or normalize_text)

    def from_db_value(self, value, expression, connection):
        return None if value is None else Ciphertext(value)

    def pre_save(self, model_instance, add):
        if self.attname not in model_instance.__dict__:
            getattr(model_instance, self.attname)  # deferred: load it
        value = model_instance.__dict__[self.attname]
        if value is None:
            return None
        external_id = model_instance.external_id
        if isinstance(value, Ciphertext):
            if value.key_version == crypto.current_key_version():
                return value
            value = self.decrypt(value, external_id=external_id)
            model_instance.__dict__[self.attname] = value
        if not isinstance(value, str):
            raise TypeError(
                f"{self.model._meta.label}.{self.name} holds text; got {type(value).__name__}. Convert it first."
            )
        return self.encrypt(value, external_id=external_id)

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        if isinstance(value, Ciphertext):
            return value.token
        raise PlaintextWriteError(
            f"Refusing to write unencrypted data to {self.model._meta.label}.{self.name}: assign the value on the "
            "instance and save() it (QuerySet.update(), bulk_update() and raw saves bypass encryption)."
        )

    def get_lookup(self, lookup_name):
        # Only NULL-ness is meaningful on ciphertext; anything else raises FieldError instead of matching nothing.
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def get_transform(self, lookup_name):
        return None

    def formfield(self, **kwargs):
        if self.max_length is not None and not self.choices:
            kwargs.setdefault("widget", forms.TextInput)
        return super().formfield(**kwargs)


_ABSENT = object()


class BlindIndexAttribute(DeferredAttribute):
    """Computes the index from the source's plaintext when the instance holds it, else serves the stored value."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        source = self.field.source_field
        if source is not None:
            current = instance.__dict__.get(source.attname, _ABSENT)
            if current is None or isinstance(current, str):
                value = source.blind_index_for(current)
                instance.__dict__[self.field.attname] = value
                return value
        return super().__get__(instance, cls)

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class BlindIndexField(models.CharField):
    """Keyed HMAC-SHA256 (hex) of an `EncryptedTextField`'s normalised value; maintained automatically.

    Point the encrypted field at it with ``blind_index="<this field's name>"``. Not editable; indexed
    by default; pass unique=True to make the encrypted value unique.
    """

    description = _("Blind index of an encrypted field")
    descriptor_class = BlindIndexAttribute

    def __init__(self, *args, **kwargs):
        kwargs["max_length"] = crypto.BLIND_INDEX_LENGTH
        kwargs["editable"] = False
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("db_index", True)
        self._source_cache: tuple[type[models.Model], EncryptedTextField | None] | None = None
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_length", None)
        kwargs.pop("editable", None)
        for attr in ("null", "blank", "db_index"):
            if kwargs.pop(attr, False) is not True:
                kwargs[attr] = False
        return name, path, args, kwargs

    @property
    def source_field(self) -> EncryptedTextField | None:
        """The encrypted field this index belongs to (the one declaring ``blind_index=<this name>``)."""
        # Cached per model: fields inherited from an abstract base are copies that must resolve on their own model.
        if self._source_cache is None or self._source_cache[0] is not self.model:
            found = [
                f
                for f in self.model._meta.concrete_fields
                if isinstance(f, EncryptedTextField) and f.blind_index == self.name
            ]
            if not apps.ready:
                return found[0] if found else None
            self._source_cache = (self.model, found[0] if found else None)
        return self._source_cache[1]

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if self.source_field is None:
            errors.append(
                checks.Error(
                    f"No EncryptedTextField on {self.model._meta.label} declares blind_index={self.name!r}.",
                    obj=self,
                    id="core.E105",
                )
            )
        return errors

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or _HEX_DIGEST.fullmatch(value):
            return value
        raise ValueError(
            f"{self.model._meta.label}.{self.name} holds blind-index digests only; "
            "search it with hospital.core.fields.blind_index_lookup()."
        )


# --- lookups and discovery -------------------------------------------------------------------------


def blind_index_lookup(model: type[models.Model], field_name: str, value: str | None) -> models.Q:
    """A filter matching rows whose encrypted `field_name` equals `value` after the field's normalisation.

    Usage: ``Patient.objects.filter(blind_index_lookup(Patient, "national_id", typed_text))``. A value
    that normalises to nothing matches no row (rather than every blank row).
    """
    field = model._meta.get_field(field_name)
    if not isinstance(field, EncryptedTextField) or field.blind_index is None:
        raise ValueError(f"{model._meta.label}.{field_name} is not an encrypted field with a blind index.")
    digest = field.blind_index_for(value)
    if digest is None:
        return models.Q(pk__in=[])
    return models.Q(**{field.blind_index: digest})


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    """The encrypted columns stored in `model`'s own table (inherited parent-table columns excluded)."""
    return [f for f in model._meta.local_concrete_fields if isinstance(f, EncryptedTextField)]


def models_with_encrypted_fields() -> list[tuple[type[models.Model], list[EncryptedTextField]]]:
    """Every installed, managed, concrete model with encrypted columns in its own table, in a stable order."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = encrypted_fields(model)
        if fields:
            found.append((model, fields))
    return sorted(found, key=lambda item: item[0]._meta.label)
