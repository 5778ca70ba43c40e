"""job queue: people imports staged in batches, and the outbox of text messages

Revision ID: 8d2f4b6a1e93
Revises: 3c1e9a7b52d4
Create Date: 2026-12-01 20:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '8d2f4b6a1e93'
down_revision = '3c1e9a7b52d4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('people_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('staged_rows', sa.Integer(), nullable=False),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'checking', 'writing', 'done', 'failed')", name=op.f('ck_people_import_status_values')),
    sa.ForeignKeyConstraint(['actor_id'], ['person.id'], name=op.f('fk_people_import_actor_id_person')),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_people_import_village_id_village')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people_import'))
    )
    with op.batch_alter_table('people_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_people_import_village_id'), ['village_id'], unique=False)
    op.create_table('people_import_row',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('household', sa.String(length=20), nullable=True),
    sa.Column('gender', sa.String(length=1), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('roles', sa.String(length=200), nullable=False),
    sa.Column('session_token', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['people_import.id'], name=op.f('fk_people_import_row_import_id_people_import'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people_import_row'))
    )
    with op.batch_alter_table('people_import_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_people_import_row_import_id'), ['import_id'], unique=False)
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('text', sa.String(length=800), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_outbox_message_status_values')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_status'))
    op.drop_table('outbox_message')
    with op.batch_alter_table('people_import_row', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_people_import_row_import_id'))
    op.drop_table('people_import_row')
    with op.batch_alter_table('people_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_people_import_village_id'))
    op.drop_table('people_import')
