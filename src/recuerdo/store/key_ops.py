"""API keys: only a SHA-256 of each key is stored; the key itself is shown once."""

from __future__ import annotations

from datetime import datetime

from recuerdo.store.query import Op, Query, Row, sql

S_INSERT_KEY = sql(
    "INSERT INTO api_keys (tenant_id, name, scope, key_hash, prefix, created_at) "
    "VALUES (:tenant_id, :name, :scope, :key_hash, :prefix, :at) RETURNING *"
)
S_KEY_BY_HASH = sql(
    "SELECT k.*, t.slug AS tenant FROM api_keys k JOIN tenants t ON t.id = k.tenant_id "
    "WHERE k.key_hash = :key_hash"
)
S_KEYS = sql("SELECT * FROM api_keys WHERE tenant_id = :tenant_id ORDER BY id")
S_REVOKE = sql(
    "UPDATE api_keys SET revoked_at = :at WHERE tenant_id = :tenant_id AND id = :id "
    "AND revoked_at IS NULL"
)


def insert_key(
    tenant: int, name: str, scope: str, key_hash: str, prefix: str, at: datetime
) -> Op[Row]:
    row = yield Query(
        S_INSERT_KEY,
        {
            "tenant_id": tenant,
            "name": name,
            "scope": scope,
            "key_hash": key_hash,
            "prefix": prefix,
            "at": at,
        },
        "one",
    )
    return row  # type: ignore[no-any-return]


def key_by_hash(key_hash: str) -> Op[Row | None]:
    row = yield Query(S_KEY_BY_HASH, {"key_hash": key_hash}, "one")
    return row  # type: ignore[no-any-return]


def list_keys(tenant: int) -> Op[list[Row]]:
    rows = yield Query(S_KEYS, {"tenant_id": tenant}, "all")
    return list(rows)


def revoke_key(tenant: int, key_id: int, at: datetime) -> Op[int]:
    n = yield Query(S_REVOKE, {"tenant_id": tenant, "id": key_id, "at": at})
    return int(n)
