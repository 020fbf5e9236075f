"""Text normalisation: what every engine indexes and searches."""

from __future__ import annotations

import re

import pytest

from recuerdo.search.text import (
    checked_term,
    detect_language,
    fold,
    highlight,
    index_terms,
    query_terms,
)
from recuerdo.store.search_ops import FTS5, TSVECTOR

SAFE_TERM = re.compile(r"[a-z0-9_]+|[^\x00-\x7f]{1,2}")


def test_accents_and_case_fold_to_the_same_terms() -> None:
    assert index_terms("CANCIÓN Devolución", "es") == index_terms("cancion devolucion", "es")
    assert fold("Ñandú ÁRBOL") == "nandu arbol"


def test_spanish_stemming_joins_word_forms() -> None:
    assert index_terms("pedido", "es") == index_terms("pedidos", "es") == ["ped"]
    assert index_terms("compré", "es") == index_terms("comprar", "es")


def test_english_stemming_joins_word_forms() -> None:
    assert index_terms("adoption", "en") == index_terms("adopting", "en") == ["adopt"]
    assert index_terms("paintings", "en") == index_terms("painted", "en")


def test_order_codes_and_numbers_stay_whole() -> None:
    assert index_terms("pedido PED-2024-118", "es") == ["ped", "ped_2024_118"]
    assert index_terms("factura #4471", "es") == ["factur", "4471"]
    assert index_terms("costó $1.500.000", "es") == ["cost", "1500000"]
    assert index_terms("el 12/03/2024 a las 3:30", "es") == ["12_03_2024", "3_30"]
    # A comma joins digits only: a missing space after it still splits words.
    assert index_terms("hola,gracias", "es") == ["hol", "graci"]


def test_emoji_are_terms_without_skin_tone() -> None:
    assert index_terms("gracias 👍🏽🙏", "es") == ["graci", "👍", "🙏"]
    assert query_terms("👍") == ["👍"]
    assert index_terms("🇨🇴", "es") == ["🇨🇴"]


def test_stop_word_only_query_gives_no_terms() -> None:
    assert query_terms("the and of it") == []
    assert query_terms("de la que el") == []
    assert query_terms("") == []
    assert query_terms("   ¿?!  ") == []


def test_language_detection_counts_stop_words() -> None:
    assert detect_language("where is my order from last week?") == "en"
    assert detect_language("¿dónde está el pedido que hice?") == "es"
    assert detect_language("PED-2024-118") == "es"
    assert detect_language("PED-2024-118", default="en") == "en"


def test_query_without_language_evidence_uses_both_stemmers() -> None:
    terms = query_terms("blue shoes")
    assert set(index_terms("blue shoes", "en")) <= set(terms)
    assert set(index_terms("blue shoes", "es")) <= set(terms)


@pytest.mark.parametrize(
    "text",
    [
        '"; DROP TABLE messages; --',
        "pedido* OR NEAR(a b) AND NOT x",
        "O'Brien's 'quoted' \"double\" -- comment /* c */",
        "col:value ^start {a b} (x) [y] + - ~ ` \\ | & $ % @ ! ? < > =",
        "中文 Ελληνικά русский ß ø æ ﬁ ①",
    ],
)
def test_fts_syntax_becomes_harmless_terms(text: str) -> None:
    for term in index_terms(text) + query_terms(text):
        assert SAFE_TERM.fullmatch(term), term
        assert not set(term) & set("\"'*:^(){}[]-+ ")
    terms = query_terms(text)
    # Each term quoted once, beside the tenant's own term; the builders raise on unsafe terms.
    assert FTS5.match(3, terms).count('"') == 2 * (len(terms) + 1)
    assert TSVECTOR.match(3, terms).count("'") == 2 * len(terms)


def test_near_and_operators_are_plain_words() -> None:
    assert query_terms("NEAR AND OR NOT", "en") == ["near"]
    assert FTS5.match(3, ["near"]) == '"__t3" AND "near"'


def test_unsafe_terms_are_refused_by_query_builders() -> None:
    assert checked_term("ped_2024_118") == "ped_2024_118"
    with pytest.raises(ValueError, match="not a search term"):
        FTS5.match(3, ['x" OR "y'])
    with pytest.raises(ValueError, match="not a search term"):
        TSVECTOR.match(3, ["it's"])


def test_ten_kilobytes_of_text() -> None:
    text = ("Hola, quiero devolver el pedido PED-2024-118 porque llegó roto 😡. " * 160)[:10_240]
    terms = index_terms(text)
    assert 900 < len(terms) < 2000
    assert all(SAFE_TERM.fullmatch(t) for t in terms)
    expected = ["hol", "quier", "devolv", "ped", "ped_2024_118", "lleg", "rot", "😡"]
    assert query_terms(text)[:8] == expected


def test_very_long_word_is_cut() -> None:
    (term,) = index_terms("a" * 5000 + "b", "es")
    assert len(term) == 64


def test_highlight_marks_matches_in_a_window() -> None:
    text = "x " * 300 + "Hola, mi pedido PED-2024-118 no llegó. " + "y " * 300
    snippet = highlight(text, query_terms("pedido llegó"), "es")
    assert "«pedido»" in snippet and "«llegó»" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet) <= 170


def test_highlight_without_match_shows_the_start() -> None:
    assert highlight("Buenos días, quiero información", ["zzz"], "es") == (
        "Buenos días, quiero información"
    )
    assert highlight("Caroline's painting", ["carolin"], "en") == "«Caroline's» painting"
