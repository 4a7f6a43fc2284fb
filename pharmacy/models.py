"""The formulary: the drugs the hospital stocks and prescribes."""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _

from hospital.core.models import BaseModel


class Drug(BaseModel):
    """A formulary entry: one generic drug in one form and strength.

    Names are kept in English and Chinese (generic names), with synonyms (brand names, common
    abbreviations) for search and for matching dictated medication names. `high_alert` marks the
    drugs (ISMP list: insulin, anticoagulants, opioids, concentrated electrolytes...) that need extra checks.
    """

    class Form(models.TextChoices):
        TABLET = "tablet", _("Tablet")
        CAPSULE = "capsule", _("Capsule")
        ORAL_LIQUID = "oral_liquid", _("Oral liquid")
        INJECTION = "injection", _("Injection")
        INFUSION = "infusion", _("Infusion")
        INHALER = "inhaler", _("Inhaler")
        CREAM = "cream", _("Cream or ointment")
        DROPS = "drops", _("Drops")
        SUPPOSITORY = "suppository", _("Suppository")
        PATCH = "patch", _("Patch")
        POWDER = "powder", _("Powder")
        OTHER = "other", _("Other")

    generic_name_en = models.CharField(_("generic name (English)"), max_length=200)
    generic_name_zh = models.CharField(_("generic name (Chinese)"), max_length=200)
    form = models.CharField(_("form"), max_length=20, choices=Form.choices)
    strength = models.CharField(_("strength"), max_length=100)
    route = models.CharField(_("route"), max_length=20)
    atc_code = models.CharField(_("ATC code"), max_length=10, db_index=True)
    high_alert = models.BooleanField(_("high-alert medication"), default=False)
    synonyms = ArrayField(models.CharField(max_length=100), verbose_name=_("synonyms"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("drug")
        verbose_name_plural = _("drugs")
        ordering = ["generic_name_en", "form", "strength"]
        indexes = [
            GinIndex(fields=["generic_name_en"], name="pharmacy_drug_name_en_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["generic_name_zh"], name="pharmacy_drug_name_zh_trgm", opclasses=["gin_trgm_ops"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["generic_name_en", "form", "strength"], name="pharmacy_drug_unique"),
            models.CheckConstraint(
                condition=models.Q(atc_code__regex=r"^[A-Z][0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?$"),
                name="pharmacy_drug_atc_format",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.generic_name_en} {self.strength} {self.get_form_display()}"
