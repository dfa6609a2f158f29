"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


# A migration that changes plan data (tasks, task_units, units, plans, progress_updates, reviews,
# task_events) bypasses the ORM events that move the read caches' data revision: end its upgrade with
#     from tracker.cache.revision import bump_revision
#     bump_revision(op.get_bind())
# (tests/test_read_cache_safety.py checks every migration for this.)


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
