"""Search index changes (filled in by the search work)

Revision ID: 0014_search_index
Revises: 0013_queue_indexes
Create Date: 2026-11-27 16:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014_search_index'
down_revision = '0013_queue_indexes'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
