"""Per-village audit chains: every event names its chain (its village's, else its
township's, else the installation's) and its seq within it; one head row per chain,
moved by a trigger on the event's insert; checkpoints sign one chain's head; a filing
keeps the chain of the checkpoint it saw. PostgreSQL also refuses to change or remove
a checkpoint.

Existing events keep their hashes: they all go to the installation chain ("i") with
their seq, which is what they were hashed with, and the old head becomes its head.
Existing checkpoints and filings are of the installation chain too.

Revision ID: 5f3c8a1d9e27
Revises: 5b8e2d7c1a4f
Create Date: 2026-12-01 23:00:00
"""
from alembic import op
import sqlalchemy as sa

from app.schema_extras import PG_CHECKPOINT_APPEND_ONLY, chain_head_rules

revision = '5f3c8a1d9e27'
down_revision = '5b8e2d7c1a4f'
branch_labels = None
depends_on = None


def _replace_head(key: sa.Column, old_row: str, new_key: str) -> None:
    """audit_head again with another primary key, keeping the installation chain's head."""
    bind = op.get_bind()
    head = bind.execute(sa.text(f"SELECT seq, hash FROM audit_head WHERE {old_row}")).first()
    op.drop_table('audit_head')
    op.create_table('audit_head', key,
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint(key.name, name=op.f('pk_audit_head'))
    )
    if head is not None:
        bind.execute(sa.text(f"INSERT INTO audit_head ({key.name}, seq, hash) VALUES ({new_key}, :s, :h)"),
                     {"s": head.seq, "h": head.hash})


def upgrade():
    bind = op.get_bind()
    # ADD COLUMN … DEFAULT fills the old rows without an UPDATE, which PostgreSQL's
    # append-only trigger would refuse.
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.String(length=12), nullable=False, server_default='i'))
        batch_op.drop_constraint('uq_audit_event_seq', type_='unique')
        batch_op.create_unique_constraint('uq_audit_event_chain_seq', ['chain', 'seq'])
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('chain', server_default=None)

    _replace_head(sa.Column('chain', sa.String(length=12), nullable=False), "id = 1", "'i'")

    with op.batch_alter_table('audit_checkpoint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.String(length=12), nullable=False, server_default='i'))
        batch_op.drop_index('ix_audit_checkpoint_seq')
        batch_op.create_index('ix_audit_checkpoint_chain_seq', ['chain', 'seq'], unique=False)
    with op.batch_alter_table('audit_checkpoint', schema=None) as batch_op:
        batch_op.alter_column('chain', server_default=None)

    with op.batch_alter_table('filing', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkpoint_chain', sa.String(length=12), nullable=True))

    for statement in chain_head_rules(bind.dialect.name):
        op.execute(statement)
    if bind.dialect.name == 'postgresql':
        for statement in PG_CHECKPOINT_APPEND_ONLY:
            op.execute(statement)


def downgrade():
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM audit_event WHERE chain <> 'i'")).scalar():
        raise RuntimeError("events of village or township chains cannot go back into one chain")
    if bind.dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_checkpoint')
        op.execute('DROP TRIGGER IF EXISTS audit_event_moves_head ON audit_event')
        op.execute('DROP FUNCTION IF EXISTS gongyi_audit_move_head()')
    else:
        op.execute('DROP TRIGGER IF EXISTS audit_event_moves_head')
    with op.batch_alter_table('filing', schema=None) as batch_op:
        batch_op.drop_column('checkpoint_chain')
    with op.batch_alter_table('audit_checkpoint', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_checkpoint_chain_seq')
        batch_op.create_index('ix_audit_checkpoint_seq', ['seq'], unique=False)
        batch_op.drop_column('chain')
    _replace_head(sa.Column('id', sa.Integer(), nullable=False), "chain = 'i'", "1")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_event_chain_seq', type_='unique')
        batch_op.create_unique_constraint('uq_audit_event_seq', ['seq'])
        batch_op.drop_column('chain')
