"""Indexes for the Inbox's summary: a patient's unread threads, and the replies expected

Revision ID: 0029_inbox_summary
Revises: 0028_call_backs
Create Date: 2026-12-03 13:25:00

"""
from alembic import op


revision = '0029_inbox_summary'
down_revision = '0028_call_backs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_threads_patient_unread', 'threads',
                    ['patient_id', 'unread_for_patient', 'group_id'])
    op.create_index('ix_threads_patient_due', 'threads', ['patient_id', 'due_at'])


def downgrade():
    op.drop_index('ix_threads_patient_due', table_name='threads')
    op.drop_index('ix_threads_patient_unread', table_name='threads')
