"""Secret ballots sealed outside the database's reach, paper ballots and the
scrutineers' totals, who signed whom in, failed sign-ins shared by every process,
the household's group (组), and the ballot_entered notice.

Revision ID: b7e4a1c9d2f0
Revises: 8d2f4b6a1e93
Create Date: 2026-12-01 19:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'b7e4a1c9d2f0'
down_revision = '8d2f4b6a1e93'
branch_labels = None
depends_on = None

OLD_KINDS = "'poll_opened', 'poll_closing', 'reply', 'resolution_posted', 'objection_answered'"
NEW_KINDS = OLD_KINDS + ", 'ballot_entered'"


def upgrade():
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))
        batch_op.drop_column('secret_key')

    with op.batch_alter_table('poll_participation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.LargeBinary(length=64), nullable=True))
        batch_op.add_column(sa.Column('sealed_key_id', sa.String(length=16), nullable=True))

    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.alter_column('voter_key', existing_type=sa.String(length=64), nullable=True)

    with op.batch_alter_table('poll_attendance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ballot_issued_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('ballot_issued_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_poll_attendance_ballot_issued_by_id_person'), 'person',
                                    ['ballot_issued_by_id'], ['id'])

    op.create_table('poll_hall_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('returned', sa.Integer(), nullable=False),
    sa.Column('yes', sa.Integer(), nullable=False),
    sa.Column('no', sa.Integer(), nullable=False),
    sa.Column('abstain', sa.Integer(), nullable=False),
    sa.Column('spoilt', sa.Integer(), nullable=False),
    sa.Column('scrutineers', sa.String(length=200), nullable=False),
    sa.Column('counter', sa.String(length=40), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=False),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('issued >= 0 AND returned >= 0 AND yes >= 0 AND no >= 0 AND abstain >= 0 AND spoilt >= 0',
                       name=op.f('ck_poll_hall_count_non_negative')),
    sa.CheckConstraint('returned <= issued', name=op.f('ck_poll_hall_count_returned_le_issued')),
    sa.CheckConstraint('yes + no + abstain + spoilt = returned', name=op.f('ck_poll_hall_count_counts_sum')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['person.id'], name=op.f('fk_poll_hall_count_entered_by_id_person')),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_poll_hall_count_poll_id_poll')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_hall_count')),
    sa.UniqueConstraint('poll_id', name=op.f('uq_poll_hall_count_poll_id'))
    )

    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("scope IN ('account', 'address', 'code-acct', 'code-addr')",
                       name=op.f('ck_login_failure_scope_values')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index('ix_login_failure_scope_key_at', ['scope', 'key', 'at'], unique=False)

    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_name', sa.String(length=20), nullable=True))

    for table in ('notification', 'notification_opt_out'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_kind_values'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_kind_values'), f"kind IN ({NEW_KINDS})")


def downgrade():
    for table in ('notification', 'notification_opt_out'):
        op.execute(sa.text(f"DELETE FROM {table} WHERE kind = 'ballot_entered'"))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_kind_values'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_kind_values'), f"kind IN ({OLD_KINDS})")

    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_column('group_name')

    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failure_scope_key_at')
    op.drop_table('login_failure')
    op.drop_table('poll_hall_count')

    with op.batch_alter_table('poll_attendance', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_poll_attendance_ballot_issued_by_id_person'), type_='foreignkey')
        batch_op.drop_column('ballot_issued_by_id')
        batch_op.drop_column('ballot_issued_at')

    # Closed secret polls' ballots have no voter key: the old schema wants one, unique
    # per poll; their own random id serves and links to nobody.
    op.execute(sa.text("UPDATE ballot SET voter_key = id WHERE voter_key IS NULL"))
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.alter_column('voter_key', existing_type=sa.String(length=64), nullable=False)

    with op.batch_alter_table('poll_participation', schema=None) as batch_op:
        batch_op.drop_column('sealed_key_id')
        batch_op.drop_column('sealed')

    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_key', sa.String(length=64), nullable=True))
        batch_op.drop_column('key_id')
