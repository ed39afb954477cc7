"""Quick texts: staff members' own, and their care teams'

Revision ID: 0024_quick_texts
Revises: 0023_people_lists
Create Date: 2026-12-03 11:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0024_quick_texts'
down_revision = '0023_people_lists'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'quick_texts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('group_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=80), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('(owner_id IS NULL) <> (group_id IS NULL)',
                           name='ck_quick_texts_one_owner'),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['group_id'], ['triage_groups.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_quick_texts_owner_id', 'quick_texts', ['owner_id'])
    op.create_index('ix_quick_texts_group_id', 'quick_texts', ['group_id'])


def downgrade():
    op.drop_index('ix_quick_texts_group_id', table_name='quick_texts')
    op.drop_index('ix_quick_texts_owner_id', table_name='quick_texts')
    op.drop_table('quick_texts')
