"""Roles are Django groups with permissions; this module is their one definition.

A role's permissions are written as `app_label.codename` patterns (fnmatch). A pattern may name
permissions of an app that is migrated later: `roles_sync` attaches whatever exists now and runs
again after every migrate, so new models' permissions reach the roles without a hand edit.
"""

from fnmatch import fnmatchcase

from django.db.utils import OperationalError, ProgrammingError
from django.utils.translation import gettext_lazy as _

DOCTOR = "doctor"
NURSE = "nurse"
PHARMACIST = "pharmacist"
BED_MANAGER = "bed_manager"
FINANCE_OFFICER = "finance_officer"
RECORDS_ARCHIVIST = "records_archivist"
AUDITOR = "auditor"
ADMINISTRATOR = "administrator"
INTEGRATION_CLIENT = "integration_client"

ROLE_LABELS = {
    DOCTOR: _("Doctor"),
    NURSE: _("Nurse"),
    PHARMACIST: _("Pharmacist"),
    BED_MANAGER: _("Bed manager"),
    FINANCE_OFFICER: _("Finance officer"),
    RECORDS_ARCHIVIST: _("Records archivist"),
    AUDITOR: _("Auditor"),
    ADMINISTRATOR: _("Administrator"),
    INTEGRATION_CLIENT: _("Integration client"),
}

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    DOCTOR: (
        "emr.*",
        "scheduling.view_*",
        "scheduling.*_appointment",
        "scheduling.*_appointmentslot",
        "pharmacy.view_*",
        "ai.*",
    ),
    NURSE: (
        "emr.view_*",
        "emr.add_observation",
        "emr.change_observation",
        "scheduling.view_*",
        "scheduling.*_bedstay",
        "scheduling.change_bedcleaning",
        "scheduling.*_appointment",
        "scheduling.*_appointmentslot",
        "pharmacy.view_*",
    ),
    PHARMACIST: ("pharmacy.*", "emr.view_medicationorder", "emr.view_patient", "emr.view_allergy"),
    BED_MANAGER: ("scheduling.*", "emr.view_patient", "emr.view_encounter", "ai.view_*"),
    FINANCE_OFFICER: ("finance.*", "emr.view_patient", "emr.view_encounter"),
    RECORDS_ARCHIVIST: ("emr.view_patient", "emr.change_patient", "emr.view_encounter"),
    AUDITOR: ("core.view_accesslog", "core.view_user", "axes.view_*"),
    ADMINISTRATOR: (
        "core.*_user",
        "auth.*",
        "authtoken.*",
        "axes.*",
        "otp_totp.*",
        "otp_static.*",
        "scheduling.*",
        "pharmacy.*",
        "finance.view_*",
        "core.view_accesslog",
    ),
    INTEGRATION_CLIENT: ("emr.view_*", "emr.add_*", "scheduling.view_*", "pharmacy.view_*"),
}


def permissions_matching(patterns: tuple[str, ...], permissions: list[tuple[int, str]]) -> list[int]:
    """Ids of the permissions (id, 'app_label.codename') that match any pattern."""
    return [pk for pk, name in permissions if any(fnmatchcase(name, pattern) for pattern in patterns)]


def roles_sync(group_model=None, permission_model=None) -> None:
    """Create every role group and give it exactly the permissions its patterns match now.

    Takes the models as arguments so that a data migration can pass its historical models.
    """
    if group_model is None or permission_model is None:
        from django.contrib.auth.models import Group, Permission

        group_model, permission_model = Group, Permission
    permissions = [
        (pk, f"{app_label}.{codename}")
        for pk, app_label, codename in permission_model.objects.values_list("id", "content_type__app_label", "codename")
    ]
    for role, patterns in ROLE_PERMISSIONS.items():
        group, _created = group_model.objects.get_or_create(name=role)
        group.permissions.set(permissions_matching(patterns, permissions))


def roles_sync_after_migrate(sender, **kwargs) -> None:
    # Runs once per app after migrate; only the last app's call matters, so sync on core's and on any later one.
    try:
        roles_sync()
    except (ProgrammingError, OperationalError):
        # auth tables do not exist yet early in the very first migrate
        return
        return
