"""Make the message log append-only for the application's database connection.

UPDATE and DELETE on log entries raise an error. A database superuser can still drop the
triggers and tamper; ``ctip exchange verify-log`` finds that through the keyed hash chain.
"""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER exchange_log_no_update BEFORE UPDATE ON exchange_logentry
       BEGIN SELECT RAISE(ABORT, 'the message log is append-only'); END""",
    """CREATE TRIGGER exchange_log_no_delete BEFORE DELETE ON exchange_logentry
       BEGIN SELECT RAISE(ABORT, 'the message log is append-only'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS exchange_log_no_update",
    "DROP TRIGGER IF EXISTS exchange_log_no_delete",
]

POSTGRES = [
    """CREATE OR REPLACE FUNCTION exchange_log_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the message log is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER exchange_log_append_only BEFORE UPDATE OR DELETE ON exchange_logentry
       FOR EACH ROW EXECUTE FUNCTION exchange_log_append_only()""",
    """CREATE TRIGGER exchange_log_no_truncate BEFORE TRUNCATE ON exchange_logentry
       FOR EACH STATEMENT EXECUTE FUNCTION exchange_log_append_only()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS exchange_log_append_only ON exchange_logentry",
    "DROP TRIGGER IF EXISTS exchange_log_no_truncate ON exchange_logentry",
    "DROP FUNCTION IF EXISTS exchange_log_append_only()",
]


def run(statements_by_vendor):
    def apply(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial")]

    operations = [
        migrations.RunPython(
            run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
