"""A thread the patient sent past the warning about words of an emergency: possible urgent

Revision ID: 0027_possible_urgent
Revises: 0026_reply_times
Create Date: 2026-12-03 13:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0027_possible_urgent'
down_revision = '0026_reply_times'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('threads', sa.Column('urgent_at', sa.DateTime(), nullable=True))
    op.create_index('ix_threads_urgent', 'threads', ['urgent_at', 'group_id'])


def downgrade():
    op.drop_index('ix_threads_urgent', table_name='threads')
    # SQLite drops the column in place (3.35+): a batch copy of `threads` would trip over
    # the search index's triggers, which name it.
    op.execute("ALTER TABLE threads DROP COLUMN urgent_at")
