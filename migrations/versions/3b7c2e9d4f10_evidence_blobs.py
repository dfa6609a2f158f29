"""evidence blobs: evidence files kept in the database (TRACKER_EVIDENCE_STORE=database)

Revision ID: 3b7c2e9d4f10
Revises: 08d6677ac080
Create Date: 2026-12-03 11:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b7c2e9d4f10'
down_revision = '08d6677ac080'
branch_labels = None
depends_on = None


def upgrade():
    # A new, empty table: no plan data changes (existing files move with `flask --app wsgi move-evidence`).
    op.create_table('evidence_blobs',
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('attachment_id')
    )


def downgrade():
    op.drop_table('evidence_blobs')
