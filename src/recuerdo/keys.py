"""API keys: scoped (bot, operator, admin), per tenant, stored as SHA-256 hashes, shown once.

>>> created = await keys.create(memory, name="bot principal", scope="bot")   # doctest: +SKIP
>>> created.key          # 'rcd_…' — printed once, never stored
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from recuerdo.errors import AuthError, InvalidInput, NotFound, PermissionDenied
from recuerdo.memory import Memory
from recuerdo.store import key_ops
from recuerdo.store.query import Row
from recuerdo.store.rows import as_dt, as_opt_dt

KEY_PREFIX = "rcd_"
_CACHE_SECONDS = 10.0


class Scope(StrEnum):
    BOT = "bot"
    OPERATOR = "operator"
    ADMIN = "admin"

    @classmethod
    def parse(cls, value: str) -> Scope:
        try:
            return cls(value)
        except ValueError:
            raise InvalidInput(
                f"unknown scope {value!r}; accepted: bot, operator, admin", received=value
            ) from None


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    tenant: str
    name: str
    scope: Scope
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: str
    record: ApiKey


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create(memory: Memory, *, name: str, scope: str) -> CreatedKey:
    """Create a key for ``memory``'s tenant; the plain key is in the answer and nowhere else."""
    parsed = Scope.parse(scope)
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("a key needs a name of 1 to 120 characters")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    tenant, now = await memory.tenant_id(), memory.clock.now()
    row = await memory.store.write(
        lambda: key_ops.insert_key(tenant, name, parsed.value, hash_key(key), key[:10], now)
    )
    return CreatedKey(key, _to_key(row, memory.tenant))


async def list_keys(memory: Memory) -> list[ApiKey]:
    tenant = await memory.tenant_id()
    rows = await memory.store.read(lambda: key_ops.list_keys(tenant))
    return [_to_key(r, memory.tenant) for r in rows]


async def revoke(memory: Memory, key_id: int) -> None:
    tenant, now = await memory.tenant_id(), memory.clock.now()
    if not await memory.store.write(lambda: key_ops.revoke_key(tenant, key_id, now)):
        raise NotFound(f"no active key {key_id} in tenant {memory.tenant!r}")
    _cache.clear()


_cache: dict[str, tuple[float, ApiKey]] = {}


async def authenticate(memory: Memory, key: str | None) -> ApiKey:
    """The key's record; :class:`AuthError` if it is missing, unknown or revoked.

    Answers are cached for a few seconds so that a bot's calls do not each cost a lookup; a key
    revoked by another process stops working within that time.
    """
    if not key:
        raise AuthError("missing API key: send 'Authorization: Bearer <key>'")
    digest = hash_key(key)
    hit = _cache.get(digest)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    row = await memory.store.read(lambda: key_ops.key_by_hash(digest))
    if row is None or row["revoked_at"] is not None:
        raise AuthError("invalid or revoked API key")
    record = _to_key(row, row["tenant"])
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[digest] = (time.monotonic() + _CACHE_SECONDS, record)
    return record


def require(key: ApiKey, *allowed: Scope) -> None:
    if key.scope is Scope.ADMIN or key.scope in allowed:
        return
    needed = " or ".join(s.value for s in allowed)
    raise PermissionDenied(
        f"this route needs a key with scope {needed}; yours is {key.scope.value}"
    )


def _to_key(row: Row, tenant: str) -> ApiKey:
    return ApiKey(
        id=int(row["id"]),
        tenant=tenant,
        name=row["name"],
        scope=Scope(row["scope"]),
        prefix=row["prefix"],
        created_at=as_dt(row["created_at"]),
        revoked_at=as_opt_dt(row["revoked_at"]),
    )
