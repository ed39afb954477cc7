"""The language a person chose for their pages and emails

Revision ID: 0032_language
Revises: 0031_email_links
Create Date: 2026-12-04 21:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0032_language'
down_revision = '0031_email_links'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_column('language')
