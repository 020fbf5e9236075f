"""Rows to domain objects: the fast builders make exactly what the dataclasses' constructors
make."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recuerdo.model import Message, Role
from recuerdo.store.rows import epoch_hour, to_message


@pytest.mark.parametrize(
    ("stored_at", "role", "metadata"),
    [
        ("2026-03-01T09:00:00.000000+00:00", 1, None),  # SQLite: text, codes, JSON text
        (datetime(2026, 3, 1, 9, tzinfo=UTC), "manual_operator", {"source": "web"}),  # PostgreSQL
    ],
)
def test_to_message_builds_the_same_message_as_its_constructor(
    stored_at: object, role: object, metadata: object
) -> None:
    row = {
        "id": 7,
        "client_id": 3,
        "conversation_id": 5,
        "thread_id": "thread_a",
        "at": stored_at,
        "role": role,
        "content": "hola",
        "content_type": "text",
        "external_id": "wamid.1",
        "metadata": '{"source":"web"}' if metadata is None else metadata,
    }
    built = to_message(row)
    expected = Message(
        id=7,
        client_id=3,
        conversation_id=5,
        thread_id="thread_a",
        at=datetime(2026, 3, 1, 9, tzinfo=UTC),
        role=Role.USER if role == 1 else Role.MANUAL_OPERATOR,
        content="hola",
        content_type="text",
        external_id="wamid.1",
        metadata={"source": "web"},
    )
    assert built == expected
    assert dataclasses.asdict(built) == dataclasses.asdict(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.content = "changed"  # type: ignore[misc]


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
        ),
    )
)
def test_epoch_hour_counts_whole_hours_since_1970(at: datetime) -> None:
    """The calendar shortcut for UTC agrees with plain time arithmetic (floored, before 1970
    too), and other offsets count the same instant."""
    expected = (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(hours=1)
    assert epoch_hour(at) == expected
    assert epoch_hour(at.astimezone(UTC)) == expected
