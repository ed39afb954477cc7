"""The audit trail keeps the ids of what it names as plain values

A row of the trail must outlive what it names: a downloaded draft file could not be removed
(nor its draft deleted) while an audit row referenced it. The thread, message, file and
record-entry ids stay in the rows, without a foreign key. SQLite rebuilds the table for this,
so its append-only triggers are made again.

Revision ID: 0018_audit_plain_ids
Revises: 0017_totp_pending_claim
Create Date: 2026-12-02 15:20:00

"""
from alembic import op


revision = '0018_audit_plain_ids'
down_revision = '0017_totp_pending_claim'
branch_labels = None
depends_on = None

NAMED = {
    'thread_id': 'threads', 'message_id': 'messages', 'attachment_id': 'attachments',
    'record_entry_id': 'record_entries',
}


def _sqlite_append_only():
    for event in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{event.lower()}")
        op.execute(
            f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON "
            "audit_events BEGIN SELECT RAISE(ABORT, "
            "'audit_events rows cannot be changed or deleted'); END"
        )


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        for column, table in NAMED.items():
            batch_op.drop_constraint(f'fk_audit_events_{column}_{table}', type_='foreignkey')
    if sqlite:
        _sqlite_append_only()


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        for column, table in NAMED.items():
            batch_op.create_foreign_key(f'fk_audit_events_{column}_{table}', table,
                                        [column], ['id'])
    if sqlite:
        _sqlite_append_only()
