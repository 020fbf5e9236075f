"""Ranking behaviour: neighbours, speakers, time, summaries, bad input, tenant-wide rescoring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recuerdo.search.ranking import (
    ClientIndex,
    CollectionStats,
    RankingOptions,
    SearchDoc,
    SummaryDoc,
    parse_query,
    score_candidates,
)
from recuerdo.search.text import index_terms

NOW = datetime(2024, 6, 5, 15, 0, tzinfo=UTC)
MARCH = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)
MAY = datetime(2024, 5, 20, 10, 0, tzinfo=UTC)


def conversation(
    cid: int, start: datetime, turns: list[tuple[str, str]], first_id: int
) -> list[SearchDoc]:
    docs = []
    for n, (speaker, text) in enumerate(turns):
        role = "user" if speaker == "Ana" else "assistant"
        at = start + timedelta(minutes=n)
        docs.append(SearchDoc(first_id + n, cid, at, role, speaker, index_terms(text, "es")))
    return docs


def shop_history() -> list[SearchDoc]:
    return [
        *conversation(
            1,
            MARCH,
            [
                ("Ana", "Hola, quiero una camiseta"),
                ("Tienda", "¿La camiseta en rojo o en azul?"),
                ("Ana", "Sí, la azul"),
                ("Tienda", "Listo, su pedido es PED-2024-118"),
            ],
            100,
        ),
        *conversation(
            2,
            MAY,
            [
                ("Ana", "Buenas, el pedido llegó con la talla equivocada"),
                ("Tienda", "Lo siento, le cambiamos el pedido"),
                ("Ana", "Me gusta el cielo azul de hoy"),
            ],
            200,
        ),
    ]


def ids(hits: list) -> list[int]:  # type: ignore[type-arg]
    return [h.id for h in hits]


def test_a_reply_borrows_its_meaning_from_the_turn_before() -> None:
    def scores(options: RankingOptions) -> dict[int, float]:
        hits = ClientIndex(shop_history(), options=options).search("camiseta azul", now=NOW)
        return {h.id: h.score for h in hits}

    # "Sí, la azul" says nothing of a shirt; the question before it does. The sky of
    # conversation 2 is just as blue, with no shirt around.
    with_neighbours = scores(RankingOptions())
    alone = scores(RankingOptions(neighbour_weights=()))
    assert with_neighbours[102] > with_neighbours[202]
    assert with_neighbours[102] / with_neighbours[202] > 1.5 * alone[102] / alone[202]


def test_neighbours_stop_at_the_conversation_boundary() -> None:
    index = ClientIndex(shop_history())
    # 200 opens conversation 2: the order code of conversation 1 (id 103) must not reach it.
    assert 200 not in ids(index.search("PED-2024-118", now=NOW))


def test_speaker_names_are_searchable() -> None:
    index = ClientIndex(shop_history())
    hits = index.search("Ana talla", now=NOW)
    assert hits[0].id == 200


def test_time_expression_favours_its_period() -> None:
    index = ClientIndex(shop_history())
    assert index.search("el pedido de marzo", now=NOW)[0].id == 103
    assert index.search("el pedido de mayo", now=NOW)[0].id in {200, 201}
    assert index.search("pedido del mes pasado", now=NOW)[0].id in {200, 201}


def test_recency_breaks_ties_without_a_time_expression() -> None:
    old = SearchDoc(1, 1, MARCH, "user", None, ["devolu"])
    new = SearchDoc(2, 2, MAY, "user", None, ["devolu"])
    assert ids(ClientIndex([old, new]).search("devolución", now=NOW)) == [2, 1]


def test_time_only_query_lists_that_period_latest_first() -> None:
    index = ClientIndex(shop_history())
    assert ids(index.search("¿y lo de marzo?", now=NOW, limit=3)) == [103, 102, 101]


def test_queries_that_find_nothing() -> None:
    index = ClientIndex(shop_history())
    assert index.search("", now=NOW) == []
    assert index.search("de la que el", now=NOW) == []
    assert index.search("zzzzqqq", now=NOW) == []
    assert index.search('"; DROP TABLE x; -- NEAR*', now=NOW) == []
    assert ClientIndex([]).search("pedido", now=NOW) == []


def test_ten_kilobyte_query() -> None:
    index = ClientIndex(shop_history())
    hits = index.search("pedido camiseta azul " * 500, now=NOW)
    assert hits and hits[0].score > 0


def test_summaries_are_items_and_lift_their_conversation() -> None:
    summary = SummaryDoc(2, MAY, index_terms("Cambio de talla por devolución", "es"))
    index = ClientIndex(shop_history(), [summary])
    hits = index.search("devolución", now=NOW)
    assert (hits[0].kind, hits[0].id) == ("summary", 2)
    lifted = index.search("pedido", now=NOW, include_summaries=False)
    plain = ClientIndex(shop_history()).search("pedido", now=NOW)
    assert {h.id: h.score for h in lifted}[200] == {h.id: h.score for h in plain}[200]
    with_summary = index.search("pedido talla devolución", now=NOW, include_summaries=False)
    assert with_summary[0].conversation_id == 2


def test_feedback_adds_terms_from_the_best_messages() -> None:
    options = RankingOptions(feedback_docs=2, feedback_terms=3)
    index = ClientIndex(shop_history(), options=options)
    hits = index.search("camiseta", now=NOW)
    assert hits[0].id in {100, 101, 102}


def test_parse_query_drops_time_words() -> None:
    parsed = parse_query("what did I order last month", now=NOW)
    assert parsed.terms == ("order",)
    assert parsed.window is not None and parsed.window.start.month == 5


def test_candidates_are_rescored_with_collection_statistics() -> None:
    docs = shop_history()
    stats = CollectionStats(doc_count=100_000, average_length=6.0, doc_freq={"ped": 20_000})
    candidates = [d for d in docs if "ped" in d.terms]
    context = [d for d in docs if d not in candidates]
    hits = score_candidates("pedido", candidates, stats, now=NOW, context=context)
    assert set(ids(hits)) == {d.id for d in candidates}
    assert all(h.score > 0 for h in hits)
    rare = score_candidates(
        "pedido", candidates, CollectionStats(100_000, 6.0, {"ped": 5}), now=NOW
    )
    assert rare[0].score > hits[0].score  # a rarer term weighs more
    assert score_candidates("", candidates, stats, now=NOW) == []
