"""Time expressions in queries, Spanish and English."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from recuerdo.search.timeexpr import find_time_window

NOW = datetime(2024, 6, 5, 15, 0, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("query", "start", "end", "rest"),
    [
        ("el pedido de marzo", date(2024, 3, 1), date(2024, 4, 1), "el pedido"),
        ("the order from March", date(2024, 3, 1), date(2024, 4, 1), "the order"),
        ("what did I buy last month", date(2024, 5, 1), date(2024, 6, 1), "what did I buy"),
        ("lo que compré el mes pasado", date(2024, 5, 1), date(2024, 6, 1), "lo que compré"),
        ("yesterday", date(2024, 6, 4), date(2024, 6, 5), ""),
        ("lo de ayer", date(2024, 6, 4), date(2024, 6, 5), "lo de"),
        ("anteayer", date(2024, 6, 3), date(2024, 6, 4), ""),
        ("la semana pasada", date(2024, 5, 27), date(2024, 6, 3), ""),
        ("last week", date(2024, 5, 27), date(2024, 6, 3), ""),
        ("este año", date(2024, 1, 1), date(2025, 1, 1), ""),
        ("el año pasado", date(2023, 1, 1), date(2024, 1, 1), ""),
        ("hace 2 semanas", date(2024, 5, 15), date(2024, 5, 29), ""),
        ("three days ago", date(2024, 6, 1), date(2024, 6, 4), ""),
        ("the invoice of 8 May, 2023", date(2023, 5, 8), date(2023, 5, 9), "the invoice of"),
        ("May 8, 2023", date(2023, 5, 8), date(2023, 5, 9), ""),
        ("8 de mayo de 2023", date(2023, 5, 8), date(2023, 5, 9), ""),
        ("2023-05-08", date(2023, 5, 8), date(2023, 5, 9), ""),
        ("08/05/2023", date(2023, 5, 8), date(2023, 5, 9), ""),
        ("el pedido del 3/05", date(2024, 5, 3), date(2024, 5, 4), "el pedido del"),
        ("08.05.2023", date(2023, 5, 8), date(2023, 5, 9), ""),
        ("in 2022", date(2022, 1, 1), date(2023, 1, 1), ""),
        ("marzo de 2023", date(2023, 3, 1), date(2023, 4, 1), ""),
        ("pedido de diciembre", date(2023, 12, 1), date(2024, 1, 1), "pedido"),
        ("el lunes", date(2024, 6, 3), date(2024, 6, 4), ""),
        ("what did she do in May", date(2024, 5, 1), date(2024, 6, 1), "what did she do"),
    ],
)
def test_expressions(query: str, start: date, end: date, rest: str) -> None:
    found = find_time_window(query, now=NOW)
    assert found.window is not None
    assert (found.window.start.date(), found.window.end.date()) == (start, end)
    assert found.rest == rest


@pytest.mark.parametrize(
    "query",
    [
        "you may come",
        "el mar",
        "PED-2024-118",
        "order 4471",
        "three blue shirts",
        "2 days",
        "3.5 kg",
        "10-12 días hábiles",
    ],
)
def test_no_time_expression(query: str) -> None:
    found = find_time_window(query, now=NOW)
    assert found.window is None
    assert found.rest == query


def test_windows_follow_the_business_time_zone() -> None:
    bogota = ZoneInfo("America/Bogota")
    found = find_time_window("ayer", now=datetime(2024, 6, 5, 3, 0, tzinfo=UTC), tz=bogota)
    # 03:00 UTC is still 4 June in Bogotá: "ayer" is 3 June there.
    assert found.window is not None
    assert found.window.start == datetime(2024, 6, 3, 5, 0, tzinfo=UTC)


def test_invalid_dates_are_ignored() -> None:
    assert find_time_window("31/02/2024", now=NOW).window is None
