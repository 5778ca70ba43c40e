"""An imported row carries the household's villagers' group (组), staged like the
household number until the import is made real.

Revision ID: e2a9c4f7b1d3
Revises: b7e4a1c9d2f0
Create Date: 2026-12-01 21:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'e2a9c4f7b1d3'
down_revision = 'b7e4a1c9d2f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('people_import_row', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_name', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('people_import_row', schema=None) as batch_op:
        batch_op.drop_column('group_name')
