"""A draft remembers the key of the form that made it, and whether files are on their way

Every request of one message form (autosave, attach, save, send) finds the same draft by its
form key, even one sent before the draft's id reached the page; a send that arrives while
that draft's files are still being stored is told so instead of going without them.

Revision ID: 0016_draft_form_key
Revises: 0015_pg_search_scope
Create Date: 2026-12-02 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0016_draft_form_key'
down_revision = '0015_pg_search_scope'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('drafts', sa.Column('form_key', sa.String(length=32), nullable=True))
    op.add_column('drafts', sa.Column('uploads_pending', sa.Integer(), nullable=False,
                                      server_default='0'))
    op.add_column('drafts', sa.Column('upload_started_at', sa.DateTime(), nullable=True))
    op.create_index('uq_drafts_author_form_key', 'drafts', ['author_id', 'form_key'],
                    unique=True)


def downgrade():
    op.drop_index('uq_drafts_author_form_key', table_name='drafts')
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_column('upload_started_at')
        batch_op.drop_column('uploads_pending')
        batch_op.drop_column('form_key')
