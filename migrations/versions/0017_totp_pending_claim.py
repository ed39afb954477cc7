"""A second-factor key being set up belongs to the one browser it was shown to

The pending key is kept with the hash of a claim that only that browser's session holds;
a setup page opened anywhere else makes a new key (voiding that one), and a key shown once
can no longer be read again from another session with the password alone. Keys pending
before this upgrade have no claim: the next setup page makes a new one.

Revision ID: 0017_totp_pending_claim
Revises: 0016_draft_form_key
Create Date: 2026-12-02 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0017_totp_pending_claim'
down_revision = '0016_draft_form_key'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('totp_pending_claim', sa.String(length=64), nullable=True))
    op.execute("UPDATE users SET totp_pending_secret = NULL")


def downgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('totp_pending_claim')
