"""The demo staff accounts that `seed_demo` creates and `make run` prints. Development only."""

from hospital.core import roles

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - a published demo password, refused in production mode

# (username, role, display name)
DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("dr.li", roles.DOCTOR, "李明 Dr Li Ming"),
    ("dr.smith", roles.DOCTOR, "Dr Anna Smith"),
    ("nurse.wang", roles.NURSE, "王芳 Nurse Wang Fang"),
    ("pharm.zhao", roles.PHARMACIST, "赵磊 Zhao Lei"),
    ("beds.chen", roles.BED_MANAGER, "陈静 Chen Jing"),
    ("fin.liu", roles.FINANCE_OFFICER, "刘洋 Liu Yang"),
    ("records.sun", roles.RECORDS_ARCHIVIST, "孙丽 Sun Li"),
    ("audit.zhou", roles.AUDITOR, "周强 Zhou Qiang"),
    ("admin", roles.ADMINISTRATOR, "Administrator"),
    ("his.gateway", roles.INTEGRATION_CLIENT, "HIS gateway"),
)

# The wards the demo clinicians work on (their charts come from these wards' patients).
DEMO_WARDS = {"dr.li": "GM1", "dr.smith": "CARD1", "nurse.wang": "GM1"}


def demo_logins_text() -> str:
    lines = [f"    {role:<18} {username}" for username, role, _name in DEMO_ACCOUNTS]
    return "\n".join(lines) + f"\n    password for all: {DEMO_PASSWORD}"
