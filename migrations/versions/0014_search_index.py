"""Search index scoped to who may see each message

Revision ID: 0014_search_index
Revises: 0013_queue_indexes
Create Date: 2026-11-27 16:40:00

SQLite: message_fts (migration 0005) is rebuilt with a third column, `scope`, holding two
tokens per message: `xp<patient id>` and `xg<triage group id>` of its thread. A search then asks
FTS5 for `{subject body}: (words) AND scope: xp42` (or the staff member's groups), so the
posting lists are intersected inside the index and read newest first (highest rowid) until
one page is full: the cost no longer grows with the size of the mailbox or of the corpus.
The `x` keeps scope tokens away from the words people type (a prefix search for `p` or `g`
would otherwise merge every scope token), and the column filter keeps words out of `scope`.
`prefix='1 2'` indexes one- and two-letter prefixes, which the live search sends while a
word is being typed and which FTS5 would otherwise merge term by term over the whole index.

The table stays contentless (`content=''`): deleting a row needs the values it was indexed
with. Messages are never edited or deleted; a thread's subject never changes; its triage
group does (services/triage.py reassign_group), so a trigger on threads deletes the thread's
rows with the old scope and inserts them again with the new one.

PostgreSQL: nothing to do. Its GIN index ix_messages_search (0009) finds the words and the
search filters on the user's threads.
"""
from alembic import op

revision = '0014_search_index'
down_revision = '0013_queue_indexes'
branch_labels = None
depends_on = None

# The scope tokens of a thread's messages are 'xp' || patient_id || ' xg' || group_id;
# services/search_index.py (scope_tokens) builds the same ones.


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS messages_fts_insert")
    op.execute("DROP TABLE IF EXISTS message_fts")
    op.execute(
        "CREATE VIRTUAL TABLE message_fts USING fts5(subject, body, scope, content='', "
        "columnsize=0, prefix='1 2', tokenize='unicode61 remove_diacritics 2')"
    )
    # New messages: the thread's subject (as 0005 did) and its scope when sent.
    op.execute(
        "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
        "INSERT INTO message_fts (rowid, subject, body, scope) "
        "SELECT new.id, threads.subject, new.body,"
        " 'xp' || threads.patient_id || ' xg' || threads.group_id "
        "FROM threads WHERE threads.id = new.thread_id; END"
    )
    # A thread sent to another team: its messages follow it. (Its patient and subject never
    # change, but should they, the index follows too rather than drift from the thread.)
    # 'delete' on a contentless table must be given exactly the values indexed, hence old.*.
    op.execute(
        "CREATE TRIGGER threads_fts_scope AFTER UPDATE OF group_id, patient_id, subject "
        "ON threads WHEN old.group_id IS NOT new.group_id "
        "OR old.patient_id IS NOT new.patient_id OR old.subject IS NOT new.subject BEGIN "
        "INSERT INTO message_fts (message_fts, rowid, subject, body, scope) "
        "SELECT 'delete', messages.id, old.subject, messages.body,"
        " 'xp' || old.patient_id || ' xg' || old.group_id "
        "FROM messages WHERE messages.thread_id = old.id; "
        "INSERT INTO message_fts (rowid, subject, body, scope) "
        "SELECT messages.id, new.subject, messages.body,"
        " 'xp' || new.patient_id || ' xg' || new.group_id "
        "FROM messages WHERE messages.thread_id = new.id; END"
    )
    # Existing messages, in rowid order (FTS5 appends to its segments fastest that way).
    op.execute(
        "INSERT INTO message_fts (rowid, subject, body, scope) "
        "SELECT messages.id, threads.subject, messages.body,"
        " 'xp' || threads.patient_id || ' xg' || threads.group_id "
        "FROM messages JOIN threads ON threads.id = messages.thread_id ORDER BY messages.id"
    )


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    # Back to migration 0005's table and trigger, filled again from the messages.
    op.execute("DROP TRIGGER IF EXISTS threads_fts_scope")
    op.execute("DROP TRIGGER IF EXISTS messages_fts_insert")
    op.execute("DROP TABLE IF EXISTS message_fts")
    op.execute("CREATE VIRTUAL TABLE message_fts USING fts5(subject, body, content='', "
               "tokenize='unicode61 remove_diacritics 2')")
    op.execute(
        "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
        "INSERT INTO message_fts (rowid, subject, body) VALUES (new.id, "
        "(SELECT subject FROM threads WHERE id = new.thread_id), new.body); END"
    )
    op.execute(
        "INSERT INTO message_fts (rowid, subject, body) SELECT messages.id, threads.subject, "
        "messages.body FROM messages JOIN threads ON threads.id = messages.thread_id"
    )
