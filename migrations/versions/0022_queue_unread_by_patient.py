"""The staff queue's "Not read by patient" filter reads one index range per team

Revision ID: 0022_queue_unread_by_patient
Revises: 0021_outbox_and_jobs
Create Date: 2026-12-03 10:00:00

Answered threads (status waiting) the patient has not opened, newest first: (team, status,
unread flag) then the sort's columns, as the other filters' ranges (migration 0013).
"""
from alembic import op


revision = '0022_queue_unread_by_patient'
down_revision = '0021_outbox_and_jobs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_threads_queue_unread_patient', 'threads',
                    ['group_id', 'status', 'unread_for_patient', 'last_message_at', 'id'])


def downgrade():
    op.drop_index('ix_threads_queue_unread_patient', table_name='threads')
