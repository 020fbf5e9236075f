"""Rules that read names, commitments, due dates and preferences out of single sentences."""

from __future__ import annotations

import re
from datetime import date

import pytest

from recuerdo.summaries.patterns import (
    find_commitment,
    find_due,
    find_preference,
    find_stated_name,
)

TUESDAY = date(2025, 5, 6)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hola, me llamo Juan", "Juan"),
        ("me llamo juan quiero saber el precio", "Juan"),
        ("Mi nombre es Ana María de la Cruz.", "Ana María de la Cruz"),
        ("Buenas tardes, soy Carlos Ruiz y quiero saber el precio", "Carlos Ruiz"),
        ("Hola soy Pedro", "Pedro"),
        ("My name is sarah", "Sarah"),
        ("Hi, this is Mark from Acme", "Mark"),
        ("Hello, I'm Priya Patel, I ordered a lamp", "Priya Patel"),
        # Not clearly a name: nothing.
        ("Soy nuevo por aquí", None),
        ("hola, soy de Cali", None),
        ("hola soy juan", None),
        ("I'm Good, thanks", None),
        ("Estoy buscando unas botas", None),
        ("Soy cliente hace años", None),
    ],
)
def test_stated_name(text: str, name: str | None) -> None:
    assert find_stated_name(text) == name


def test_bare_name_answering_the_question() -> None:
    assert find_stated_name("laura gómez", previous_business_text="¿Me regalas tu nombre?") == (
        "Laura Gómez"
    )
    assert find_stated_name("Laura Gómez", previous_business_text="¿Qué talla usas?") is None
    assert find_stated_name("sí claro", previous_business_text="¿A nombre de quién?") is None


@pytest.mark.parametrize(
    ("text", "what", "due", "due_date"),
    [
        ("Te envío mañana la guía.", "enviar mañana la guía", "mañana", date(2025, 5, 7)),
        ("Te lo envío pasado mañana", "enviarlo pasado mañana", "pasado mañana", date(2025, 5, 8)),
        ("Le confirmamos el viernes", "confirmar el viernes", "el viernes", date(2025, 5, 9)),
        (
            "Le enviaremos la factura el 15 de mayo",
            "enviar la factura el 15 de mayo",
            "el 15 de mayo",
            date(2025, 5, 15),
        ),
        ("Vamos a revisar su caso hoy", "revisar su caso hoy", "hoy", TUESDAY),
        ("Ok, le confirmo en 2 días", "confirmar en 2 días", "en 2 días", date(2025, 5, 8)),
        ("Mañana paso por la tienda", "pasar por la tienda", "Mañana", date(2025, 5, 7)),
        ("te aviso", "avisar", None, None),
        (
            "Quedamos en que usted pasa el martes",
            "usted pasa el martes",
            "el martes",
            date(2025, 5, 13),
        ),
        (
            "I'll send you the invoice by Friday.",
            "send you the invoice by Friday",
            "by Friday",
            date(2025, 5, 9),
        ),
        (
            "We'll ship it tomorrow morning",
            "ship it tomorrow morning",
            "tomorrow morning",
            date(2025, 5, 7),
        ),
        ("I'm going to pay on May 20th", "pay on May 20th", "May 20th", date(2025, 5, 20)),
        ("Let me check with the warehouse", "check with the warehouse", None, None),
    ],
)
def test_commitment(text: str, what: str, due: str | None, due_date: date | None) -> None:
    lang = "en" if re.search(r"\b(?:I|We|Let)\b", text) else "es"
    assert find_commitment(text, lang, today=TUESDAY) == (
        what,
        due,
        due_date,
    )


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("¿Me envías la foto?", "es"),
        ("No te envío nada hasta que pagues", "es"),
        ("El pago llega mañana", "es"),
        ("el paso siguiente es fácil", "es"),
        ("Will you send it?", "en"),
        ("I won't do it", "en"),
        ("I will not pay for that", "en"),
        ("The package arrived", "en"),
    ],
)
def test_no_commitment(text: str, lang: str) -> None:
    assert find_commitment(text, lang, today=TUESDAY) is None


def test_due_without_a_reference_day_is_only_words() -> None:
    assert find_due("te llamo el lunes", today=None) == ("el lunes", None)


@pytest.mark.parametrize(
    ("text", "due_date"),
    [
        ("el martes", date(2025, 5, 13)),  # said on a Tuesday: next week's
        ("hoy mismo", TUESDAY),
        ("en una semana", date(2025, 5, 13)),
        ("en 3 horas", TUESDAY),
        ("el 2 de enero", date(2026, 1, 2)),  # already past this year
        ("la próxima semana", None),
        ("por la mañana", None),
    ],
)
def test_due_dates(text: str, due_date: date | None) -> None:
    assert find_due(text, today=TUESDAY)[1] == due_date


@pytest.mark.parametrize(
    ("text", "lang", "preference"),
    [
        ("Prefiero que me llamen en la tarde, gracias", "es", "prefiere que me llamen en la tarde"),
        ("No me gustan los zapatos de tacón", "es", "no le gusta los zapatos de tacón"),
        ("Me encanta el café de Nariño", "es", "le encanta el café de Nariño"),
        ("Soy alérgica al maní", "es", "es alérgico a maní"),
        ("Mi talla es 38.", "es", "talla 38"),
        ("I prefer my coffee without sugar", "en", "prefers their coffee without sugar"),
        ("I'm allergic to peanuts.", "en", "is allergic to peanuts"),
        ("I don't like calls, text me instead", "en", "doesn't like calls"),
        ("¿Te gusta el azul?", "es", None),
        ("The blue one is nice", "en", None),
    ],
)
def test_preference(text: str, lang: str, preference: str | None) -> None:
    assert find_preference(text, lang) == preference
