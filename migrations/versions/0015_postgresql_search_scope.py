"""PostgreSQL search index scoped to who may see each message

Revision ID: 0015_pg_search_scope
Revises: 0014_search_index
Create Date: 2026-11-27 22:10:00

PostgreSQL: the GIN index of migration 0009 found every message holding the words, across the
whole facility, and the search then sorted them all by time before keeping the user's own: a
word common across the facility cost tens of milliseconds in a big mailbox, however few of
those messages were the user's. Like SQLite's index (0014), the new `message_fts` table holds
each message's words together with two scope tokens of its thread, `~p<patient id>` and
`~g<triage group id>`, so the GIN index intersects the words with the user's scope and hands
over only the user's matches; the table also carries the time sent, so those are put in order
without reading the messages — or, for words common in a big mailbox, read newest first along
an index of that time until a page is full. The `~` keeps scope tokens out of reach of what people type
(search words are letters and digits, searched as prefixes).

Triggers keep it: a new message is indexed with its thread's scope; a thread sent to another
team (or, should it ever happen, to another patient) has its messages' scope rewritten; a
message's text or time, never edited today, would be indexed again. Deleting a message
deletes its row (ON DELETE CASCADE). The old expression index is dropped: nothing reads it.
Data loaded with triggers turned off: `flask --app app smweb reindex-search` fills the table.

On a large database this runs for about a minute per million messages, in one transaction
that holds sends back until it ends: upgrade in a quiet hour.

SQLite: nothing to do (its FTS5 table is migration 0014's).
"""
from alembic import op

revision = '0015_pg_search_scope'
down_revision = '0014_search_index'
branch_labels = None
depends_on = None

# The indexed document of a message: its words, then its thread's scope tokens;
# services/search_index.py (scope_tokens) asks for the same tokens.
DOCUMENT = """
CREATE FUNCTION smweb_message_document(subject text, body text, patient_id integer,
                                       group_id integer) RETURNS tsvector
LANGUAGE sql IMMUTABLE AS $$
  SELECT to_tsvector('simple', coalesce(subject, '') || ' ' || coalesce(body, ''))
         || array_to_tsvector(array_remove(ARRAY['~p' || patient_id, '~g' || group_id], NULL))
$$
"""

# A new message, or a message changed: one upsert serves both (and adds a message missing
# from the index, as after data loaded with triggers off).
ON_MESSAGE = """
CREATE FUNCTION smweb_message_fts_index() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO message_fts (message_id, sent_at, document)
  SELECT NEW.id, NEW.sent_at,
         smweb_message_document(NEW.subject, NEW.body, threads.patient_id, threads.group_id)
  FROM threads WHERE threads.id = NEW.thread_id
  ON CONFLICT (message_id) DO UPDATE
    SET sent_at = EXCLUDED.sent_at, document = EXCLUDED.document;
  RETURN NULL;
END $$
"""

ON_THREAD_SCOPE = """
CREATE FUNCTION smweb_thread_fts_scope() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE message_fts SET document = smweb_message_document(messages.subject, messages.body,
                                                           NEW.patient_id, NEW.group_id)
  FROM messages WHERE messages.thread_id = NEW.id AND message_fts.message_id = messages.id;
  RETURN NULL;
END $$
"""

OLD_INDEX = ("CREATE INDEX ix_messages_search ON messages USING gin "
             "(to_tsvector('simple'::regconfig, subject || ' ' || body))")  # as 0009 made it


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE message_fts ("
        " message_id integer PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,"
        " sent_at timestamp without time zone NOT NULL,"
        " document tsvector NOT NULL)"
    )
    op.execute(DOCUMENT)
    op.execute(ON_MESSAGE)
    op.execute(ON_THREAD_SCOPE)
    op.execute("CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages "
               "FOR EACH ROW EXECUTE FUNCTION smweb_message_fts_index()")
    op.execute("CREATE TRIGGER messages_fts_update AFTER UPDATE OF subject, body, sent_at, "
               "thread_id ON messages FOR EACH ROW EXECUTE FUNCTION smweb_message_fts_index()")
    op.execute("CREATE TRIGGER threads_fts_scope AFTER UPDATE OF patient_id, group_id ON threads "
               "FOR EACH ROW WHEN (OLD.patient_id IS DISTINCT FROM NEW.patient_id "
               "OR OLD.group_id IS DISTINCT FROM NEW.group_id) "
               "EXECUTE FUNCTION smweb_thread_fts_scope()")
    # Existing messages, then the index over them (faster than growing it row by row).
    op.execute(
        "INSERT INTO message_fts (message_id, sent_at, document) "
        "SELECT messages.id, messages.sent_at, smweb_message_document(messages.subject, "
        "messages.body, threads.patient_id, threads.group_id) "
        "FROM messages JOIN threads ON threads.id = messages.thread_id"
    )
    op.execute("CREATE INDEX ix_message_fts_document ON message_fts USING gin (document)")
    # Newest first: for words common in a big mailbox, PostgreSQL walks this index back from
    # the newest message and stops after a page (a rare word is found through the GIN index
    # and sorted); its statistics tell it which costs less.
    op.execute("CREATE INDEX ix_message_fts_sent ON message_fts (sent_at, message_id)")
    op.execute("DROP INDEX IF EXISTS ix_messages_search")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(OLD_INDEX)
    op.execute("DROP TRIGGER IF EXISTS threads_fts_scope ON threads")
    op.execute("DROP TRIGGER IF EXISTS messages_fts_update ON messages")
    op.execute("DROP TRIGGER IF EXISTS messages_fts_insert ON messages")
    op.execute("DROP TABLE IF EXISTS message_fts")
    for function in ("smweb_thread_fts_scope()", "smweb_message_fts_index()",
                     "smweb_message_document(text, text, integer, integer)"):
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
