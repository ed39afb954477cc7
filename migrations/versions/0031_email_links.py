"""Getting in: links sent by email (a new password, confirming an address), sign-up's
email confirmation, and identity verified in person

Revision ID: 0031_email_links
Revises: 0030_caregivers
Create Date: 2026-12-03 16:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0031_email_links'
down_revision = '0030_caregivers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'email_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_email_links_user_purpose', 'email_links', ['user_id', 'purpose'])
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('signed_up', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
        batch.add_column(sa.Column('email_confirmed_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('identity_verified_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('identity_verified_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_users_identity_verified_by', 'users',
                                 ['identity_verified_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint('fk_users_identity_verified_by', type_='foreignkey')
        batch.drop_column('identity_verified_by_id')
        batch.drop_column('identity_verified_at')
        batch.drop_column('email_confirmed_at')
        batch.drop_column('signed_up')
    op.drop_index('ix_email_links_user_purpose', table_name='email_links')
    op.drop_table('email_links')
