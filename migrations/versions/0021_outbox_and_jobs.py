"""The outbox of email notices, and the scheduled jobs' runs (the worker's records)

Revision ID: 0021_outbox_and_jobs
Revises: 0020_attachment_warning
Create Date: 2026-12-02 17:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0021_outbox_and_jobs'
down_revision = '0020_attachment_warning'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('staff', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_until', sa.DateTime(), nullable=True),
        sa.Column('failing_since', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.String(length=60), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('dropped', sa.String(length=12), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notices_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    )
    op.create_index('ix_notices_user_id', 'notices', ['user_id'], unique=False)
    op.create_index('ix_notices_due', 'notices', ['next_attempt_at'], unique=False,
                    sqlite_where=sa.text('sent_at IS NULL AND dropped IS NULL'),
                    postgresql_where=sa.text('sent_at IS NULL AND dropped IS NULL'))
    op.create_table(
        'job_runs',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('registered_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('running_until', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('succeeded_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.String(length=60), nullable=True),
        sa.Column('last_result', sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_job_runs')),
    )


def downgrade():
    op.drop_table('job_runs')
    op.drop_index('ix_notices_due', table_name='notices')
    op.drop_index('ix_notices_user_id', table_name='notices')
    op.drop_table('notices')
