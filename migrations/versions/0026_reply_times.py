"""Reply times: what the response-time reports count, one row per patient message, filled
in for the messages already sent

Revision ID: 0026_reply_times
Revises: 0025_staff_notes
Create Date: 2026-12-03 12:40:00

"""
from datetime import time

from alembic import op
import sqlalchemy as sa

from smweb.services import sla


revision = '0026_reply_times'
down_revision = '0025_staff_notes'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade():
    reply_times = op.create_table(
        'reply_times',
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('weekday', sa.SmallInteger(), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=False),
        sa.Column('replied_at', sa.DateTime(), nullable=True),
        sa.Column('replied_by_id', sa.Integer(), nullable=True),
        sa.Column('business_seconds', sa.Integer(), nullable=True),
        sa.Column('business_tenths', sa.Integer(), nullable=True),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['group_id'], ['triage_groups.id']),
        sa.ForeignKeyConstraint(['replied_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('message_id'),
    )
    op.create_index('ix_reply_times_counts', 'reply_times',
                    ['group_id', 'category', 'weekday', 'received_at', 'replied_at', 'due_at',
                     'closed_at'])
    op.create_index('ix_reply_times_spread', 'reply_times',
                    ['group_id', 'replied_by_id', 'business_tenths', 'received_at',
                     'replied_at', 'due_at'])
    op.create_index('ix_reply_times_thread_open', 'reply_times', ['thread_id', 'replied_at'])
    op.create_index('ix_thread_events_kind_created', 'thread_events', ['kind', 'created_at'])
    _fill(op.get_bind(), reply_times)


def _fill(bind, reply_times):
    """Replay the messages already sent, thread by thread, on the reply clock: a team message
    is the first reply of the patient's messages waiting before it; a completion closes them
    unanswered (the thread_events' "completed", in their order)."""
    facilities = {row.id: sla.BusinessHours(row.timezone, _time(row.opens_at),
                                            _time(row.closes_at))
                  for row in bind.execute(sa.text(
                      "SELECT id, timezone, opens_at, closes_at FROM facilities"))}
    completions = {}
    for row in bind.execute(sa.text(
            "SELECT thread_id, created_at FROM thread_events WHERE kind = 'completed' "
            "ORDER BY thread_id, created_at")):
        completions.setdefault(row.thread_id, []).append(_moment(row.created_at))
    # Streamed (the statement's option, not the connection's: later migrations' statements
    # must not run through a server-side cursor).
    messages = bind.execute(sa.text(
        "SELECT m.id, m.thread_id, m.author_id, m.from_patient, m.sent_at, t.group_id, "
        "t.category, g.facility_id FROM messages m JOIN threads t ON t.id = m.thread_id "
        "JOIN triage_groups g ON g.id = t.group_id ORDER BY m.thread_id, m.sent_at, m.id")
        .execution_options(stream_results=True, yield_per=BATCH))
    rows, waiting, thread_id, closing = [], [], None, []

    def close(before):
        """The completions up to `before` (None: all) close what waits."""
        while closing and (before is None or closing[0] <= before):
            at = closing.pop(0)
            for row in waiting:
                row["closed_at"] = at
            rows.extend(waiting)
            waiting.clear()

    for m in messages:
        if m.thread_id != thread_id:
            close(None)
            rows.extend(waiting)
            waiting.clear()
            thread_id, closing = m.thread_id, list(completions.get(m.thread_id, []))
        hours = facilities[m.facility_id]
        sent_at = _moment(m.sent_at)
        close(sent_at)
        if m.from_patient:
            waiting.append({
                "message_id": m.id, "thread_id": m.thread_id, "group_id": m.group_id,
                "category": m.category, "received_at": sent_at,
                "weekday": sla.local_date(sent_at, hours).weekday(),
                "due_at": sla.due_at(sent_at, hours), "replied_at": None,
                "replied_by_id": None, "business_seconds": None, "business_tenths": None,
                "closed_at": None})
        else:
            for row in waiting:
                seconds = int(sla.business_time_between(row["received_at"], sent_at, hours)
                              .total_seconds())
                row.update(replied_at=sent_at, replied_by_id=m.author_id,
                           business_seconds=seconds, business_tenths=seconds // 360)
            rows.extend(waiting)
            waiting.clear()
        if len(rows) >= BATCH:
            op.bulk_insert(reply_times, rows)
            rows.clear()
    close(None)
    rows.extend(waiting)
    if rows:
        op.bulk_insert(reply_times, rows)


def _time(value):
    """SQLite hands back a TIME column as text."""
    return value if isinstance(value, time) else time.fromisoformat(value)


def _moment(value):
    if isinstance(value, str):  # SQLite, through a plain text() query
        from datetime import datetime
        return datetime.fromisoformat(value)
    return value


def downgrade():
    op.drop_index('ix_thread_events_kind_created', table_name='thread_events')
    op.drop_index('ix_reply_times_thread_open', table_name='reply_times')
    op.drop_index('ix_reply_times_spread', table_name='reply_times')
    op.drop_index('ix_reply_times_counts', table_name='reply_times')
    op.drop_table('reply_times')
