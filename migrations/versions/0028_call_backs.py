"""Call-backs: a patient asks for a phone call once a thread's reply time has passed

Revision ID: 0028_call_backs
Revises: 0027_possible_urgent
Create Date: 2026-12-03 13:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0028_call_backs'
down_revision = '0027_possible_urgent'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'call_backs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(length=40), nullable=False),
        sa.Column('good_times', sa.String(length=100), server_default='', nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.Column('done_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['done_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_call_backs_open', 'call_backs', ['done_at', 'thread_id'])
    op.create_index('uq_call_backs_one_waiting', 'call_backs', ['thread_id'], unique=True,
                    sqlite_where=sa.text('done_at IS NULL'),
                    postgresql_where=sa.text('done_at IS NULL'))


def downgrade():
    op.drop_index('uq_call_backs_one_waiting', table_name='call_backs')
    op.drop_index('ix_call_backs_open', table_name='call_backs')
    op.drop_table('call_backs')
