"""Caregivers: proxy access to a patient's messages, and who sent a patient's message

Revision ID: 0030_caregivers
Revises: 0029_inbox_summary
Create Date: 2026-12-03 16:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0030_caregivers'
down_revision = '0029_inbox_summary'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'caregivers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('caregiver_id', sa.Integer(), nullable=False),
        sa.Column('may_write', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('ended_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['patient_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['caregiver_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['ended_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('uq_caregivers_current', 'caregivers', ['caregiver_id', 'patient_id'],
                    unique=True, sqlite_where=sa.text('ended_at IS NULL'),
                    postgresql_where=sa.text('ended_at IS NULL'))
    op.create_index('ix_caregivers_patient', 'caregivers', ['patient_id', 'ended_at'])
    # Plain ADD COLUMN (no batch copy of the table): the search triggers on messages stay.
    # A plain id, no foreign key, so SQLite can drop it again the same way.
    op.add_column('messages', sa.Column('sent_by_id', sa.Integer(), nullable=True))


def downgrade():
    op.drop_column('messages', 'sent_by_id')  # SQLite 3.35+: ALTER TABLE DROP COLUMN
    op.drop_index('ix_caregivers_patient', table_name='caregivers')
    op.drop_index('uq_caregivers_current', table_name='caregivers')
    op.drop_table('caregivers')
