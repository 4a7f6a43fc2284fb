"""The database itself keeps the access log append-only: UPDATE, DELETE and TRUNCATE raise.

Row-level triggers refuse UPDATE and DELETE (naming the row), a statement-level trigger refuses
TRUNCATE. Only a superuser can get past them (ALTER TABLE ... DISABLE TRIGGER ALL or
session_replication_role = replica); the hash chain is what exposes such a change afterwards.
"""

from django.db import migrations

INSTALL = r"""
CREATE FUNCTION core_accesslog_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        RAISE EXCEPTION 'the access log is append-only: % of row % refused', TG_OP, OLD.id
            USING HINT = 'Access log rows can only be inserted (hospital.core.services.access_log).';
    END IF;
    RAISE EXCEPTION 'the access log is append-only: % refused', TG_OP
        USING HINT = 'Access log rows can only be inserted (hospital.core.services.access_log).';
END;
$$;

CREATE TRIGGER core_accesslog_refuse_update_delete
    BEFORE UPDATE OR DELETE ON core_accesslog
    FOR EACH ROW EXECUTE FUNCTION core_accesslog_refuse_change();

CREATE TRIGGER core_accesslog_refuse_truncate
    BEFORE TRUNCATE ON core_accesslog
    FOR EACH STATEMENT EXECUTE FUNCTION core_accesslog_refuse_change();
"""

REMOVE = r"""
DROP TRIGGER IF EXISTS core_accesslog_refuse_truncate ON core_accesslog;
DROP TRIGGER IF EXISTS core_accesslog_refuse_update_delete ON core_accesslog;
DROP FUNCTION IF EXISTS core_accesslog_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_access_log"),
    ]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
