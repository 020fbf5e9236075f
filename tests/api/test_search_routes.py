"""GET /v1/search on a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api
from tests.search.shop import ANA, MAY, load_shop

PROBLEM = "application/problem+json"


async def test_operator_searches_a_client_and_the_tenant(api: Api) -> None:
    await load_shop(api.memory)
    async with api.client(api.operator) as http:
        one = await http.get("/v1/search", params={"q": "pedido PED-2024-118", "who": ANA})
        assert one.status_code == 200
        first = one.json()["items"][0]
        assert first["kind"] == "message"
        assert first["message"]["external_id"] == "a4"
        assert first["snippet"] == "Listo, su «pedido» es «PED-2024-118»"
        assert first["conversation"]["id"] == first["message"]["conversation_id"]
        assert first["client_id"] == first["message"]["client_id"]
        every = await http.get("/v1/search", params={"q": "camisetas envío Cali", "limit": 2})
        assert [h["message"]["external_id"] for h in every.json()["items"]] == ["c1", "c2"]
        summary = await http.get("/v1/search", params={"q": "compró", "who": ANA})
        hit = summary.json()["items"][0]
        assert (hit["kind"], hit["message"]) == ("summary", None)
        assert hit["conversation"]["summary"].startswith("Ana compró")


async def test_filters_travel_as_query_parameters(api: Api) -> None:
    await load_shop(api.memory)
    async with api.client(api.operator) as http:
        answer = await http.get(
            "/v1/search",
            params={"q": "pedido", "who": ANA, "since": MAY.isoformat(), "role": ["user"]},
        )
        assert [h["message"]["external_id"] for h in answer.json()["items"]] == ["a5", "a8"]


@pytest.mark.parametrize("q", ["", "el de la", '"', "*", "NEAR", "'", "--", "x" * 5_000])
async def test_bad_queries_answer_200(api: Api, q: str) -> None:
    await load_shop(api.memory)
    async with api.client(api.operator) as http:
        answer = await http.get("/v1/search", params={"q": q})
        assert answer.status_code == 200
        assert isinstance(answer.json()["items"], list)


async def test_errors_are_problems(api: Api) -> None:
    await load_shop(api.memory)
    async with api.client(api.operator) as http:
        unknown = await http.get("/v1/search", params={"q": "pedido", "who": "573009999999"})
        assert unknown.status_code == 404
        assert unknown.headers["content-type"] == PROBLEM
        assert unknown.json()["code"] == "client-not-found"
        naive = await http.get("/v1/search", params={"q": "x", "since": "2025-01-01T00:00:00"})
        assert naive.status_code == 422
        role = await http.get("/v1/search", params={"q": "x", "role": "customer"})
        assert role.status_code == 422
        assert role.json()["code"] == "invalid-role"
        limit = await http.get("/v1/search", params={"q": "x", "limit": 1000})
        assert limit.status_code == 422
        too_long = await http.get("/v1/search", params={"q": "x" * 5_001})
        assert too_long.status_code == 422
        assert too_long.json()["code"] == "validation-error"


async def test_only_operators_search(api: Api) -> None:
    async with api.client(api.bot) as http:
        assert (await http.get("/v1/search", params={"q": "pedido"})).status_code == 403
    async with api.client() as http:
        assert (await http.get("/v1/search", params={"q": "pedido"})).status_code == 401
    async with api.client(api.admin) as http:
        spec = (await http.get("/openapi.json")).json()
        assert "/v1/search" in spec["paths"]
