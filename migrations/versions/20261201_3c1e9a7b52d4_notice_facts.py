"""notice facts: an announcement or a Party plan recorded once; corrections are new rows

Revision ID: 3c1e9a7b52d4
Revises: d4c1a7e0b913
Create Date: 2026-12-01 19:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '3c1e9a7b52d4'
down_revision = 'd4c1a7e0b913'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notice_fact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('happened_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('paper_note', sa.String(length=300), nullable=True),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=1000), nullable=True),
    sa.CheckConstraint("kind IN ('assembly_announced', 'party_plan_sent')", name=op.f('ck_notice_fact_kind_values')),
    sa.ForeignKeyConstraint(['corrects_id'], ['notice_fact.id'], name=op.f('fk_notice_fact_corrects_id_notice_fact')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_notice_fact_proposal_id_proposal')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['person.id'], name=op.f('fk_notice_fact_recorded_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_fact'))
    )
    with op.batch_alter_table('notice_fact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_fact_proposal_id'), ['proposal_id'], unique=False)


def downgrade():
    with op.batch_alter_table('notice_fact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_fact_proposal_id'))
    op.drop_table('notice_fact')
