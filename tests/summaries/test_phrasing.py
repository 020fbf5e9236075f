"""English reported speech and the words of each language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from recuerdo.summaries.phrasing import join_names, quote, strip_lead, third_person, when


@pytest.mark.parametrize(
    ("sentence", "reported"),
    [
        ("I went to a support group yesterday.", "Ana went to a support group yesterday."),
        ("I love my new bike!", "Ana loves their new bike."),
        ("I'm so happy for you", "Ana is so happy for Luis."),
        ("I've been painting a lot", "Ana has been painting a lot."),
        ("I'll send you the photos tomorrow", "Ana will send Luis the photos tomorrow."),
        ("I really enjoy hiking with my kids", "Ana really enjoys hiking with their kids."),
        ("I can't wait to see it", "Ana can't wait to see it."),
        ("i go there every week", "Ana goes there every week."),
        ("My sister lives in the US", "Ana's sister lives in the US."),
        ("We went camping with our friends", "Ana said they went camping with their friends."),
        ("The stories were inspiring!", "Ana said the stories were inspiring."),
        ("Your painting is beautiful", "Ana said Luis's painting is beautiful."),
        ("It helped me a lot", "Ana said it helped them a lot."),
        ("You obviously have a gift", "Ana said Luis obviously has a gift."),
        ("You really inspire me", "Ana said Luis really inspires them."),
        ("Painting is a way to express yourself", "Ana said painting is a way to express oneself."),
    ],
)
def test_third_person(sentence: str, reported: str) -> None:
    assert third_person(sentence, "Ana", "Luis") == reported


def test_reporting_verb() -> None:
    assert third_person("The shop was closed", "Ana", "Luis", "mentioned that") == (
        "Ana mentioned that the shop was closed."
    )


@pytest.mark.parametrize(
    ("sentence", "stripped"),
    [
        ("Wow, Mel! I went to a support group.", "I went to a support group."),
        ("Yeah, totally. It was fun", "It was fun"),
        ("Ok thanks, but this is the second time", "this is the second time"),
        ("Hola, quería saber el precio", "quería saber el precio"),
        ("Yesterday, I went out.", "Yesterday, I went out."),
        ("Thanks!", "Thanks!"),
    ],
)
def test_strip_lead(sentence: str, stripped: str) -> None:
    assert strip_lead(sentence, names=("Melanie", "Caroline")) == stripped


def test_when_and_names() -> None:
    at = datetime(2024, 12, 1, 0, 5, tzinfo=UTC)
    assert when(at, "es") == "1 de diciembre de 2024 a las 00:05"
    assert when(at, "en") == "1 December 2024 at 12:05 am"
    assert join_names(["Ana"], "es") == "Ana"
    assert join_names(["Ana", "Luis", "el asistente"], "es") == "Ana, Luis y el asistente"
    assert join_names(["Ana", "the agent"], "en") == "Ana and the agent"


def test_quote_cuts_long_text() -> None:
    assert quote("uno dos tres cuatro.", 10) == "uno dos tres cuatro"
    assert quote("uno dos tres cuatro", 2) == "uno dos…"
