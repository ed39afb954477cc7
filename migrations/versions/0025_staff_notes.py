"""Staff notes on a thread, and consults: a note asking a colleague for advice

Revision ID: 0025_staff_notes
Revises: 0024_quick_texts
Create Date: 2026-12-03 11:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0025_staff_notes'
down_revision = '0024_quick_texts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'staff_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('asked_id', sa.Integer(), nullable=True),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['users.id']),
        sa.ForeignKeyConstraint(['asked_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_staff_notes_thread_id', 'staff_notes', ['thread_id'])
    op.create_index('ix_staff_notes_open_consults', 'staff_notes',
                    ['asked_id', 'answered_at', 'thread_id'])


def downgrade():
    op.drop_index('ix_staff_notes_open_consults', table_name='staff_notes')
    op.drop_index('ix_staff_notes_thread_id', table_name='staff_notes')
    op.drop_table('staff_notes')
