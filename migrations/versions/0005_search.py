"""message search

Revision ID: 0005_search
Revises: 0004_folders
Create Date: 2026-11-27

Full-text search over messages. SQLite: an FTS5 table of each message's thread subject and
body, filled by a trigger as messages are sent (messages are never edited or deleted).
PostgreSQL: searched with to_tsvector('simple', ...) on the fly; the same words match on both.
"""
from alembic import op


revision = '0005_search'
down_revision = '0004_folders'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE VIRTUAL TABLE message_fts USING fts5(subject, body, content='', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
        "INSERT INTO message_fts (rowid, subject, body) VALUES (new.id, "
        "(SELECT subject FROM threads WHERE id = new.thread_id), new.body); END"
    )
    op.execute(
        "INSERT INTO message_fts (rowid, subject, body) SELECT messages.id, threads.subject, "
        "messages.body FROM messages JOIN threads ON threads.id = messages.thread_id"
    )


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS messages_fts_insert")
    op.execute("DROP TABLE IF EXISTS message_fts")
