"""A file can carry a caution for staff: a PDF with a script or a launch action

Revision ID: 0020_attachment_warning
Revises: 0019_audit_search
Create Date: 2026-12-02 16:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0020_attachment_warning'
down_revision = '0019_audit_search'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('attachments', sa.Column('warning', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('warning')
