"""API keys: hashed, scoped, per tenant.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    when = sa.Text() if bind.dialect.name == "sqlite" else sa.DateTime(timezone=True)
    op.create_table(
        "api_keys",
        sa.Column("id", big, primary_key=True),
        sa.Column("tenant_id", big, nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("revoked_at", when),
    )
    op.create_index("ix_api_keys_tenant", "api_keys", ["tenant_id"])


def downgrade() -> None:
    op.drop_table("api_keys")
