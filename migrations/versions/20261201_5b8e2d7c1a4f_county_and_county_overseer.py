"""A county above the townships (县), and the county overseer's read-only grant.

Revision ID: 5b8e2d7c1a4f
Revises: e2a9c4f7b1d3
Create Date: 2026-12-01 23:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '5b8e2d7c1a4f'
down_revision = 'e2a9c4f7b1d3'
branch_labels = None
depends_on = None

OLD_SCOPE = (
    "(role IN ('villager','representative','party_member','committee_member','supervisor','clerk')"
    " AND village_id IS NOT NULL AND township_id IS NULL)"
    " OR (role = 'overseer' AND township_id IS NOT NULL AND village_id IS NULL)"
    " OR (role = 'admin' AND village_id IS NULL AND township_id IS NULL)"
)
NEW_SCOPE = (
    "(county_id IS NULL AND ("
    "(role IN ('villager','representative','party_member','committee_member','supervisor','clerk')"
    " AND village_id IS NOT NULL AND township_id IS NULL)"
    " OR (role = 'overseer' AND township_id IS NOT NULL AND village_id IS NULL)"
    " OR (role = 'admin' AND village_id IS NULL AND township_id IS NULL)))"
    " OR (role = 'county_overseer' AND county_id IS NOT NULL AND village_id IS NULL AND township_id IS NULL)"
)


def upgrade():
    op.create_table(
        'county',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_county')),
        sa.UniqueConstraint('name', name=op.f('uq_county_name')),
    )
    with op.batch_alter_table('township', schema=None) as batch_op:
        batch_op.add_column(sa.Column('county_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_township_county_id'), ['county_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_township_county_id_county'), 'county', ['county_id'], ['id'])
    with op.batch_alter_table('role_grant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('county_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_role_grant_county_id_county'), 'county', ['county_id'], ['id'])
        batch_op.drop_constraint(batch_op.f('ck_role_grant_role_scope'), type_='check')
        batch_op.create_check_constraint('role_scope', NEW_SCOPE)


def downgrade():
    op.execute("DELETE FROM role_grant WHERE role = 'county_overseer'")
    with op.batch_alter_table('role_grant', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_role_grant_role_scope'), type_='check')
        batch_op.create_check_constraint('role_scope', OLD_SCOPE)
        batch_op.drop_constraint(batch_op.f('fk_role_grant_county_id_county'), type_='foreignkey')
        batch_op.drop_column('county_id')
    with op.batch_alter_table('township', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_township_county_id_county'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_township_county_id'))
        batch_op.drop_column('county_id')
    op.drop_table('county')
