"""message subject

Revision ID: 0009_message_subject
Revises: 0008_blocks
Create Date: 2026-11-27 15:07:41.859477

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_message_subject'
down_revision = '0008_blocks'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (no table copy): messages keeps its search trigger (migration 0005).
    op.add_column('messages', sa.Column('subject', sa.String(length=50), server_default='',
                                        nullable=False))
    op.execute("UPDATE messages SET subject = (SELECT subject FROM threads "
               "WHERE threads.id = messages.thread_id)")
    if op.get_bind().dialect.name == "postgresql":
        # Full-text search over subject and body together (services/search.py uses the very
        # same expression, so PostgreSQL can use this index).
        op.execute("CREATE INDEX ix_messages_search ON messages USING gin "
                   "(to_tsvector('simple'::regconfig, subject || ' ' || body))")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_messages_search")
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('subject')
