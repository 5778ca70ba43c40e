"""audit checkpoints, and the checkpoint a filing saw

Revision ID: 3b9d2e7c4a51
Revises: 75652ff283c5
Create Date: 2026-12-01 20:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b9d2e7c4a51'
down_revision = '75652ff283c5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint'))
    )
    with op.batch_alter_table('audit_checkpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_checkpoint_seq'), ['seq'], unique=False)
    with op.batch_alter_table('filing', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkpoint_seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('checkpoint_hash', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('filing', schema=None) as batch_op:
        batch_op.drop_column('checkpoint_hash')
        batch_op.drop_column('checkpoint_seq')
    with op.batch_alter_table('audit_checkpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_checkpoint_seq'))
    op.drop_table('audit_checkpoint')
