"""A participation row remembers the request key of the submission that last cast it,
so a retried submission (the same key) is recognised and not cast again.

Revision ID: 5f3b8d2c7a61
Revises: 5f3c8a1d9e27
Create Date: 2026-12-01 23:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '5f3b8d2c7a61'
down_revision = '5f3c8a1d9e27'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('poll_participation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('poll_participation', schema=None) as batch_op:
        batch_op.drop_column('request_key')
