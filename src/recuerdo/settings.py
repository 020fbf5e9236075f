"""Every setting of recuerdo, read from the environment with the prefix ``RECUERDO_``.

Each field's description is its documentation (``docs/settings.md`` is checked against it by a
test). Example: ``RECUERDO_DATABASE_URL=postgresql://app@db/recuerdo recuerdo serve``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """recuerdo's configuration. Every field can be set as ``RECUERDO_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="RECUERDO_", extra="ignore")

    database_url: str | None = Field(
        None,
        description="Database URL: sqlite:///path/file.db or postgresql://user:pass@host/db. "
        "Empty means a SQLite file recuerdo.db inside data_dir.",
    )
    data_dir: Path = Field(
        Path("data"), description="Folder for the embedded SQLite database and other local files."
    )
    tenant: str = Field("default", description="Tenant slug used when a caller names none.")
    migrate_on_open: bool = Field(
        True, description="Apply pending database migrations when Memory.open() runs."
    )
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = Field(
        "NORMAL",
        description="SQLite synchronous mode. NORMAL: an acknowledged write survives a process "
        "crash; FULL: it also survives power loss (slower, shares fsyncs by group commit).",
    )
    sqlite_page_size: int = Field(
        2048,
        ge=512,
        le=65536,
        description="SQLite page size in bytes for a database file recuerdo creates (an existing "
        "file keeps its own). Every page a write changes is written whole to the WAL and synced "
        "at checkpoints: a message changes about seven, so smaller pages write less per message. "
        "A power of two from 512 to 65536.",
    )
    sqlite_wal_autocheckpoint: int | None = Field(
        None,
        ge=100,
        le=1_000_000,
        description="SQLite: after a commit leaves this many pages in the write-ahead log, "
        "they are copied into the database file (a checkpoint: two fsyncs and a write of each "
        "changed page once). Empty: 10,000 with synchronous NORMAL or OFF, where checkpoints "
        "are the only fsyncs and rarer ones share them among more messages (about 20 MiB of "
        "log with the default page size; SQLite's own 1,000 costs a one-caller write about 12% "
        "more time); SQLite's 1,000 with FULL or EXTRA, where every commit syncs the log and a "
        "short log, rewritten in place, syncs faster than a long one still growing.",
    )
    sqlite_busy_timeout_ms: int = Field(
        10_000, description="How long SQLite waits for a lock held by another process (ms)."
    )
    write_batch_max: int = Field(
        256, ge=1, description="Most writes committed together in one group commit."
    )
    pg_pool_min: int = Field(2, ge=1, description="PostgreSQL pool: connections kept open.")
    pg_pool_max: int = Field(16, ge=1, description="PostgreSQL pool: most connections.")
    pg_writer_lanes: int = Field(
        2,
        ge=1,
        description="PostgreSQL: connections that commit batched writes in parallel (more "
        "for a server with more than two cores).",
    )
    idle_timeout_hours: float = Field(
        6.0, gt=0, description="A message after this many idle hours starts a new conversation."
    )
    max_content_bytes: int = Field(
        64 * 1024, ge=1, description="Largest message content accepted, in UTF-8 bytes."
    )
    default_region: str = Field(
        "CO", description="Region for phone numbers typed without a country code (ISO 3166)."
    )
    allow_groups: bool = Field(False, description="Accept WhatsApp group ids (…@g.us) as clients.")
    timezone: str = Field(
        "America/Bogota", description="Business time zone used when showing dates to people."
    )
    language: Literal["es", "en"] = Field(
        "es", description="Language of messages, context notes and the console: es or en."
    )
    returning_after_days: float = Field(
        30.0, ge=0, description="A client is 'returning' after this many days without contact."
    )
    context_token_budget: int = Field(
        800, ge=100, description="Most tokens the returning-customer context may take."
    )
    context_template: str | None = Field(
        None,
        description="The business's own template for the context note ($placeholders, see "
        "docs/context.md); empty means the built-in Spanish or English note.",
    )
    worker_interval_s: float = Field(
        5.0, gt=0, description="Seconds the background worker sleeps when there is no work."
    )
    run_worker_in_serve: bool = Field(
        True, description="Run the background worker inside `recuerdo serve`."
    )

    @field_validator("sqlite_page_size")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError(f"must be a power of two from 512 to 65536, got {value}")
        return value
