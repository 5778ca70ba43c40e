"""consultation threads

Revision ID: f76f4a4fda83
Revises: 627de9a78534
Create Date: 2026-11-27 15:03:50.778699

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f76f4a4fda83'
down_revision = '627de9a78534'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consultation_post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('thread', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('stance', sa.String(length=16), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('hidden_at', sa.DateTime(), nullable=True),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.Column('hidden_reason', sa.String(length=500), nullable=True),
    sa.CheckConstraint("stance IS NULL OR stance IN ('support', 'concern', 'oppose', 'suggestion', 'question')", name=op.f('ck_consultation_post_stance_values')),
    sa.CheckConstraint("thread IN ('topic', 'consensus')", name=op.f('ck_consultation_post_thread_values')),
    sa.CheckConstraint('parent_id IS NOT NULL OR stance IS NOT NULL', name=op.f('ck_consultation_post_top_level_has_stance')),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_consultation_post_author_id_person')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['person.id'], name=op.f('fk_consultation_post_entered_by_id_person')),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['person.id'], name=op.f('fk_consultation_post_hidden_by_id_person')),
    sa.ForeignKeyConstraint(['parent_id'], ['consultation_post.id'], name=op.f('fk_consultation_post_parent_id_consultation_post')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_consultation_post_proposal_id_proposal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_post'))
    )
    with op.batch_alter_table('consultation_post', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_post_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultation_post_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultation_post_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('consultation_summary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('heard', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('written_by_id', sa.Integer(), nullable=False),
    sa.Column('written_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_consultation_summary_proposal_id_proposal')),
    sa.ForeignKeyConstraint(['written_by_id'], ['person.id'], name=op.f('fk_consultation_summary_written_by_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_summary')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_consultation_summary_proposal_id'))
    )
    op.create_table('sense_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("choice IN ('agree', 'unsure', 'concerned')", name=op.f('ck_sense_check_choice_values')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_sense_check_person_id_person')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_sense_check_proposal_id_proposal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sense_check')),
    sa.UniqueConstraint('proposal_id', 'person_id', name='uq_sense_check_person')
    )
    with op.batch_alter_table('sense_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sense_check_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('stakeholder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('(household_id IS NULL) <> (person_id IS NULL)', name=op.f('ck_stakeholder_household_or_person')),
    sa.ForeignKeyConstraint(['added_by_id'], ['person.id'], name=op.f('fk_stakeholder_added_by_id_person')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_stakeholder_household_id_household')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_stakeholder_person_id_person')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_stakeholder_proposal_id_proposal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stakeholder')),
    sa.UniqueConstraint('proposal_id', 'household_id', name='uq_stakeholder_household'),
    sa.UniqueConstraint('proposal_id', 'person_id', name='uq_stakeholder_person')
    )
    with op.batch_alter_table('stakeholder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stakeholder_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('disagreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status = 'open' OR outcome IS NOT NULL", name=op.f('ck_disagreement_closed_has_outcome')),
    sa.CheckConstraint("status IN ('open', 'resolved', 'carried')", name=op.f('ck_disagreement_status_values')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['person.id'], name=op.f('fk_disagreement_closed_by_id_person')),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], name=op.f('fk_disagreement_created_by_id_person')),
    sa.ForeignKeyConstraint(['post_id'], ['consultation_post.id'], name=op.f('fk_disagreement_post_id_consultation_post')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_disagreement_proposal_id_proposal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disagreement')),
    sa.UniqueConstraint('post_id', name=op.f('uq_disagreement_post_id'))
    )
    with op.batch_alter_table('disagreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disagreement_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('amendment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('disagreement_id', sa.Integer(), nullable=True),
    sa.Column('base_version_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decline_reason', sa.String(length=500), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status <> 'accepted' OR version_id IS NOT NULL", name=op.f('ck_amendment_accepted_has_version')),
    sa.CheckConstraint("status IN ('proposed', 'accepted', 'declined')", name=op.f('ck_amendment_status_values')),
    sa.ForeignKeyConstraint(['base_version_id'], ['proposal_version.id'], name=op.f('fk_amendment_base_version_id_proposal_version')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['person.id'], name=op.f('fk_amendment_decided_by_id_person')),
    sa.ForeignKeyConstraint(['disagreement_id'], ['disagreement.id'], name=op.f('fk_amendment_disagreement_id_disagreement')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_amendment_proposal_id_proposal')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['person.id'], name=op.f('fk_amendment_proposed_by_id_person')),
    sa.ForeignKeyConstraint(['version_id'], ['proposal_version.id'], name=op.f('fk_amendment_version_id_proposal_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amendment'))
    )
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_amendment_disagreement_id'), ['disagreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_amendment_proposal_id'), ['proposal_id'], unique=False)



def downgrade():
    with op.batch_alter_table('amendment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_amendment_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_amendment_disagreement_id'))

    op.drop_table('amendment')
    with op.batch_alter_table('disagreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disagreement_proposal_id'))

    op.drop_table('disagreement')
    with op.batch_alter_table('stakeholder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stakeholder_proposal_id'))

    op.drop_table('stakeholder')
    with op.batch_alter_table('sense_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sense_check_proposal_id'))

    op.drop_table('sense_check')
    op.drop_table('consultation_summary')
    with op.batch_alter_table('consultation_post', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_post_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_consultation_post_parent_id'))
        batch_op.drop_index(batch_op.f('ix_consultation_post_author_id'))

    op.drop_table('consultation_post')
