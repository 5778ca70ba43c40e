"""rule profile: holiday shift of a period's last day, township approval

Revision ID: d4c1a7e0b913
Revises: 3b9d2e7c4a51
Create Date: 2026-12-01 19:55:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd4c1a7e0b913'
down_revision = '3b9d2e7c4a51'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rule_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holiday_shift', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('approved_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('approved_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_rule_profile_approved_by_id_person'), 'person',
                                    ['approved_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('rule_profile', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_rule_profile_approved_by_id_person'), type_='foreignkey')
        batch_op.drop_column('approved_by_id')
        batch_op.drop_column('approved_at')
        batch_op.drop_column('holiday_shift')
