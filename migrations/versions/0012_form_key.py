"""A message remembers the key of the form that sent it: a double submit sends once

Revision ID: 0012_form_key
Revises: 0011_sessions
Create Date: 2026-11-27 16:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_form_key'
down_revision = '0011_sessions'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy of the table): the search triggers on messages stay.
    op.add_column('messages', sa.Column('form_key', sa.String(length=32), nullable=True))
    op.create_index('uq_messages_author_form_key', 'messages', ['author_id', 'form_key'],
                    unique=True)


def downgrade():
    op.drop_index('uq_messages_author_form_key', table_name='messages')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('form_key')
