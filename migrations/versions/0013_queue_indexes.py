"""Indexes for the staff queue: each filter and sort is read in index order, a page at a time

Revision ID: 0013_queue_indexes
Revises: 0012_form_key
Create Date: 2026-11-27 16:40:00

"""
from alembic import op


revision = '0013_queue_indexes'
down_revision = '0012_form_key'
branch_labels = None
depends_on = None

# (name, columns): see Thread.__table_args__ and services/triage.py (the queue).
QUEUE_INDEXES = (
    ('ix_threads_queue_due',
     ['group_id', 'status', 'due_at', 'last_message_at', 'id', 'warn_at']),
    ('ix_threads_queue_recent', ['group_id', 'status', 'last_message_at', 'id']),
    ('ix_threads_queue_assignee_due',
     ['assignee_id', 'group_id', 'status', 'due_at', 'last_message_at', 'id']),
    ('ix_threads_queue_assignee_recent',
     ['assignee_id', 'group_id', 'status', 'last_message_at', 'id']),
    ('ix_threads_assigned_for', ['assigned_for_id']),
)


def upgrade():
    # Plain CREATE INDEX (no batch copy of the table): rows and triggers stay as they are, and
    # a populated table only takes the time to build each index.
    for name, columns in QUEUE_INDEXES:
        op.create_index(name, 'threads', columns, unique=False)
    # ix_threads_queue_due starts with the same columns: the old index is redundant.
    op.drop_index('ix_threads_group_status_due', table_name='threads')


def downgrade():
    op.create_index('ix_threads_group_status_due', 'threads', ['group_id', 'status', 'due_at'],
                    unique=False)
    for name, _columns in reversed(QUEUE_INDEXES):
        op.drop_index(name, table_name='threads')
