"""Topics of a conversation: the customer-service subjects it touches, then its keywords.

Example::

    >>> find_topics(["Hola, ¿cuánto cuesta el envío a Cali?", "El envío cuesta 10.000"], "es")
    ['precio', 'envío']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from recuerdo.search.text import index_terms

# Subjects that any shop or service meets, with the words that reveal them. Labels are in the
# conversation's language; the words are matched as search terms (folded and stemmed).
_SUBJECTS: dict[str, tuple[tuple[str, str], str]] = {
    "price": (
        ("precio", "price"),
        "precio precios cuesta cuestan valor costo cotizacion tarifa "
        "price prices cost costs quote how much fee",
    ),
    "shipping": (
        ("envío", "shipping"),
        "envio envios domicilio despacho entrega guia "
        "transportadora shipping delivery deliver tracking courier",
    ),
    "payment": (
        ("pago", "payment"),
        "pago pagar transferencia tarjeta nequi daviplata efectivo "
        "contraentrega consignacion payment pay card transfer cash",
    ),
    "returns": (
        ("devolución", "returns"),
        "devolucion devolver cambio reembolso garantia return refund exchange warranty",
    ),
    "order": (("pedido", "order"), "pedido pedidos orden compra order orders purchase"),
    "booking": (
        ("cita", "booking"),
        "cita agendar reserva reservar turno appointment booking reservation schedule",
    ),
    "hours": (
        ("horario", "opening hours"),
        "horario horarios abren cierran abierto hours open opening close closing",
    ),
    "location": (
        ("ubicación", "location"),
        "direccion ubicacion sede tienda local address location store branch",
    ),
    "stock": (
        ("disponibilidad", "availability"),
        "disponible disponibilidad stock agotado talla "
        "tallas available availability stock size sizes sold out",
    ),
    "complaint": (
        ("reclamo", "complaint"),
        "queja reclamo problema danado roto defectuoso complaint problem broken damaged defective",
    ),
    "invoice": (("factura", "invoice"), "factura facturacion invoice receipt billing"),
}
_SUBJECT_TERMS: dict[str, frozenset[str]] = {
    key: frozenset(index_terms(words, "es") + index_terms(words, "en"))
    for key, (_, words) in _SUBJECTS.items()
}
# Greetings, praise and verbs that every chat is full of: never a topic.
_FILLER = frozenset(
    index_terms(
        "hola gracias buenas dias tardes noches favor bien quiero necesito saber genial "
        "perfecto excelente listo claro bueno super chevere vale dale gustar encantar hacer "
        "ver ir poder decir cosa vez tiempo dia rato verdad queda quedar tengo tiene tienes "
        "manana hoy ayer lunes martes miercoles jueves viernes sabado domingo semana mes",
        "es",
    )
    + index_terms(
        "hello thanks please good day want need know like think really great awesome cool "
        "amazing wonderful glad happy nice love lovely fantastic incredible fun exciting "
        "make see get go feel look sound thing things time lot way keep sure yeah today "
        "tomorrow yesterday monday tuesday wednesday thursday friday saturday sunday week month",
        "en",
    )
)
# A subject named once may be chance ("worth the price"); twice, the chat is about it.
_MIN_SUBJECT_MENTIONS = 2


def find_topics(
    texts: Sequence[str], lang: str, *, limit: int = 5, exclude: Sequence[str] = ()
) -> list[str]:
    """Up to ``limit`` topics: known subjects first (most mentioned first), then keywords said
    in more than one message. Words of ``exclude`` (the speakers' names) are never topics."""
    excluded = {t for name in exclude for t in index_terms(name, "es" if lang == "es" else "en")}
    per_message = [index_terms(text, "es" if lang == "es" else "en") for text in texts]
    counts: Counter[str] = Counter(t for terms in per_message for t in terms)
    spread: Counter[str] = Counter(t for terms in per_message for t in set(terms))
    subjects = sorted(
        (
            (sum(counts[t] for t in terms), key)
            for key, terms in _SUBJECT_TERMS.items()
            if sum(counts[t] for t in terms) >= min(_MIN_SUBJECT_MENTIONS, len(texts))
        ),
        key=lambda pair: -pair[0],
    )
    language_index = 0 if lang == "es" else 1
    topics = [_SUBJECTS[key][0][language_index] for _, key in subjects][:limit]
    covered = set().union(*(_SUBJECT_TERMS[key] for _, key in subjects)) if subjects else set()
    surface = _surface_forms(texts, lang)
    keywords = sorted(
        (
            t
            for t in spread
            if t not in covered
            and t not in _FILLER
            and t not in excluded
            and len(t) > 2
            and not t.isdigit()
            and t in surface
            and (spread[t] > 1 or len(texts) == 1)
        ),
        key=lambda t: (-spread[t], -counts[t], t),
    )
    for term in keywords:
        if len(topics) >= limit:
            break
        topics.append(surface[term])
    return topics


def _surface_forms(texts: Sequence[str], lang: str) -> dict[str, str]:
    # The most frequent written word behind each stem, folded: "envíos", "envio" → "envio".
    seen: dict[str, Counter[str]] = {}
    for text in texts:
        for word in text.split():
            clean = word.strip(".,;:!?¡¿()[]\"'«»“”").lower()
            if not clean.isalpha():
                continue
            terms = index_terms(clean, "es" if lang == "es" else "en")
            if len(terms) == 1:
                seen.setdefault(terms[0], Counter())[clean] += 1
    return {term: forms.most_common(1)[0][0] for term, forms in seen.items()}
