"""Searches are audited: how many results a search showed (never its words)

Revision ID: 0019_audit_search
Revises: 0018_audit_plain_ids
Create Date: 2026-12-02 15:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0019_audit_search'
down_revision = '0018_audit_plain_ids'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('audit_events', sa.Column('result_count', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('result_count')
