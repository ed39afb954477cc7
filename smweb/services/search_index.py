"""The search index, kept by the database's own triggers, and how a search asks it.

SQLite: an FTS5 table (migrations 0005, 0014) whose `scope` column holds, per message, the
tokens xp<patient id> and xg<triage group id> of the message's thread. PostgreSQL: a table
(migration 0015) of each message's time sent and its document, the words with the tokens
~p<patient id> and ~g<triage group id>, GIN-indexed. services/search.py builds its
statements on these.
"""

from sqlalchemy import String, bindparam, cast, column, func, literal_column, table, text
from sqlalchemy.dialects.postgresql import TSQUERY

from ..extensions import db
from ..models import User

MESSAGE_FTS = table("message_fts", column("rowid"))
PG_MESSAGE_FTS = table("message_fts", column("message_id"), column("sent_at"),
                       column("document"))


def scope_tokens(user: User, group_ids: list[int], mark: str = "x") -> list[str]:
    """The scope tokens of the threads the user may search: a patient's own, or those of the
    staff member's triage groups (migrations 0014, `x`, and 0015, `~`, write the same)."""
    if user.is_patient:
        return [f"{mark}p{user.id}"]
    return [f"{mark}g{group_id}" for group_id in group_ids]


def fts_match(words: list[str], scope: list[str]) -> str:
    """An FTS5 query: every word as a prefix, in the subject or body only (never the scope
    column), and one of the user's scope tokens. Words are quoted, so FTS5 operators typed
    into the search box are just text."""
    match = "scope : (" + " OR ".join(scope) + ")"
    if words:
        match = "{subject body} : (" + " AND ".join(f'"{w}"*' for w in words) + ") AND " + match
    return match


def keyword_condition():
    """PostgreSQL: every word as a prefix of a word of the subject or body, and one of the
    user's scope tokens, asked of the GIN index of migration 0015 in one go."""
    # The query's text goes into the SQL itself (rendered when it runs, quoted by SQLAlchemy:
    # literal_execute), not as a parameter: psycopg prepares a statement run five times, and
    # PostgreSQL's generic plan for it, blind to how common the words are, walks every
    # message of a big mailbox (seconds). The tokens are cast, not parsed: the text search
    # parser would drop their `~`.
    matching = func.to_tsquery(literal_column("'simple'::regconfig"),
                               bindparam("tsquery", type_=String, literal_execute=True)).op("&&")(
        cast(bindparam("scope", type_=String, literal_execute=True), TSQUERY))
    return PG_MESSAGE_FTS.c.document.op("@@")(matching)


def keyword_params(words: list[str], scope: list[str]) -> dict:
    """The values of keyword_condition: letters and digits, and ~p<int> / ~g<int> tokens,
    safe to join and to quote."""
    return {"tsquery": " & ".join(f"{w}:*" for w in words),
            "scope": " | ".join(f"'{token}'" for token in scope)}


def rebuild_index() -> int:
    """Index every message again, with its thread's scope: after data was loaded with the
    database's triggers turned off (a restore, an import), search finds it again. Returns
    how many messages were indexed."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("INSERT INTO message_fts (message_fts) VALUES ('delete-all')"))
        indexed = db.session.execute(text(
            "INSERT INTO message_fts (rowid, subject, body, scope) "
            "SELECT messages.id, threads.subject, messages.body,"
            " 'xp' || threads.patient_id || ' xg' || threads.group_id "
            "FROM messages JOIN threads ON threads.id = messages.thread_id "
            "ORDER BY messages.id")).rowcount
    else:
        indexed = db.session.execute(text(
            "INSERT INTO message_fts (message_id, sent_at, document) "
            "SELECT messages.id, messages.sent_at, smweb_message_document(messages.subject, "
            "messages.body, threads.patient_id, threads.group_id) "
            "FROM messages JOIN threads ON threads.id = messages.thread_id "
            "ON CONFLICT (message_id) DO UPDATE "
            "SET sent_at = EXCLUDED.sent_at, document = EXCLUDED.document")).rowcount
    db.session.commit()
    return indexed
