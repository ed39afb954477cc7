"""Indexes for the staff queue (filled in by the queue work)

Revision ID: 0013_queue_indexes
Revises: 0012_form_key
Create Date: 2026-11-27 16:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0013_queue_indexes'
down_revision = '0012_form_key'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
