"""Rules that read facts out of single chat sentences, in Spanish and English.

Each rule prefers missing a fact to inventing one: a customer's name only when they state it
("me llamo Ana", "my name is Ana", or a bare name answering "¿a nombre de quién?"), a commitment
only when someone says they will do something, a preference only in the first person.

Example::

    >>> find_commitment("Le envío la cotización mañana.", "es", today=date(2025, 5, 3))
    ('enviar la cotización mañana', 'mañana', datetime.date(2025, 5, 4))
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from recuerdo.search.text import fold


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_LETTER = "A-Za-zÁÉÍÓÚÜÑáéíóúüñ"
_NAME_PARTICLES = frozenset({"de", "del", "la", "las", "los", "da", "van", "von"})
# Words that follow "soy" / "I'm" / "me llamo" but are no name; checked folded.
_NOT_NAMES = _wordset(
    """
    hola buenas buenos dias tardes noches gracias bien mal ok okay si no claro listo perfecto
    cliente clienta nuevo nueva yo el ella usted aqui alla de del from the a an not so very just
    here fine good great sorry hello thanks thank interested looking calling writing new customer
    una uno un persona senor senora senorita don dona mr mrs ms sir madam
    lunes martes miercoles jueves viernes sabado domingo monday tuesday wednesday thursday friday
    saturday sunday enero febrero marzo abril mayo junio julio agosto septiembre octubre
    noviembre diciembre january february march april june july august september october
    november december colombiano colombiana mexicano mexicana english spanish
    """
)
_STATED_NAME = [
    # Explicit statements: a lowercase name is still clear after "me llamo".
    re.compile(rf"\b(?:me llamo|mi nombre es|my name is|call me)\s+([{_LETTER}' -]+)", re.I),
    # "soy X" / "I'm X" only at the start of a message or right after a greeting, with a
    # capital: "soy nuevo", "I'm fine" are no names.
    re.compile(
        rf"(?:^|(?:hola|buenas|buenos d[ií]as|buenas tardes|buenas noches|hi|hello|hey|"
        rf"good morning|good afternoon)(?:\s+[{_LETTER}]+){{0,3}}[^\w]+)"
        rf"(?:soy|i'm|i am|this is|le habla|habla|te habla|mi nombre es)\s+"
        rf"([A-ZÁÉÍÓÚÑ][{_LETTER}'-]+(?:\s+[A-ZÁÉÍÓÚÑ][{_LETTER}'-]+){{0,2}})",
        re.I,
    ),
]
_ASKS_NAME = re.compile(
    r"\b(?:tu nombre|su nombre|como te llamas|como se llama|con quien tengo el gusto|"
    r"a nombre de quien|your name|who am i speaking|may i have your name)\b"
)
_BARE_NAME = re.compile(
    rf"^\s*(?:(?:soy|me llamo|mi nombre es|es|my name is|i'm|it's)\s+)?"
    rf"([{_LETTER}'-]+(?:\s+[{_LETTER}'-]+){{0,2}})\s*[.!]?\s*$",
    re.I,
)


def _clean_name(raw: str, *, explicit: bool, whole: bool = False) -> str | None:
    words: list[str] = []
    for word in raw.strip(" '-").split():
        bare = word.strip("'-")
        folded = fold(bare)
        if not bare.isalpha() or (folded in _NOT_NAMES and folded not in _NAME_PARTICLES):
            break
        if folded in _NAME_PARTICLES:
            if not words:
                break
            words.append(folded)
            continue
        if not explicit and not bare[0].isupper():
            break
        # A lowercase run after "me llamo" may go on into the sentence ("me llamo juan quiero
        # saber"): keep one lowercase word unless the names are capitalised.
        if not whole and words and not bare[0].isupper() and not words[0][0].isupper():
            break
        words.append(bare)
        if len(words) == 3:
            break
    while words and words[-1] in _NAME_PARTICLES:
        words.pop()
    if not words:
        return None
    return " ".join(w if w in _NAME_PARTICLES else w[0].upper() + w[1:] for w in words)


def find_stated_name(text: str, *, previous_business_text: str | None = None) -> str | None:
    """The customer's own name when this message states it clearly, else ``None``.

    >>> find_stated_name("Hola, me llamo maría josé")
    'María'
    >>> find_stated_name("Buenas tardes, soy Carlos Ruiz y quiero saber el precio")
    'Carlos Ruiz'
    >>> find_stated_name("Soy nuevo por aquí") is None
    True
    >>> find_stated_name("Laura Gómez", previous_business_text="¿A nombre de quién?")
    'Laura Gómez'
    """
    for pattern in _STATED_NAME:
        match = pattern.search(text)
        if match:
            name = _clean_name(match.group(1), explicit=pattern is _STATED_NAME[0])
            if name:
                return name
    if previous_business_text and _ASKS_NAME.search(fold(previous_business_text)):
        match = _BARE_NAME.match(text)
        if match:
            return _clean_name(match.group(1), explicit=True, whole=True)
    return None


# -- when: due dates ---------------------------------------------------------------------------

_WEEKDAYS = {
    **{"lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5},
    **{"domingo": 6, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4},
    **{"saturday": 5, "sunday": 6},
}
_MONTHS = {
    **{"enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7},
    **{"agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11},
    **{"diciembre": 12, "january": 1, "february": 2, "march": 3, "april": 4, "may": 5},
    **{"june": 6, "july": 7, "august": 8, "september": 9, "october": 10, "november": 11},
    "december": 12,
}
_NUMBER_WORDS = {
    **{"un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "a": 1},
    **{"an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "siete": 7},
}
_WD = "|".join(_WEEKDAYS)
_MO = "|".join(_MONTHS)
_NUM = "|".join(_NUMBER_WORDS) + r"|\d{1,2}"
# Matched on folded text (no accents, lower case); the order is the order of preference.
_DUE = re.compile(
    rf"\b(?P<after_tomorrow>pasado manana|the day after tomorrow)\b"
    rf"|(?<!la )(?<!esta )(?<!por la )(?<!en la )(?<!de la )\b(?P<tomorrow>manana|tomorrow)\b"
    rf"(?:\s+(?:en|por) la (?:manana|tarde|noche)|\s+(?:morning|afternoon|evening))?"
    rf"|\b(?P<today>hoy(?: mismo)?|esta tarde|esta noche|today|tonight|this (?:afternoon|evening)"
    rf"|end of (?:the )?day)\b"
    rf"|\b(?:el |este |el proximo |on |by |next |this |antes del |a mas tardar el )?"
    rf"(?P<weekday>{_WD})\b"
    rf"|\b(?:el )?(?P<day>\d{{1,2}}) de (?P<month>{_MO})\b"
    rf"|\b(?P<month2>{_MO}) (?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\b"
    rf"|\b(?P<day3>\d{{1,2}})(?:st|nd|rd|th)? (?:of )?(?P<month3>{_MO})\b"
    rf"|\b(?:en|in|within|dentro de) (?P<n>{_NUM}) (?P<unit>dias?|days?|semanas?|weeks?"
    rf"|horas?|hours?|minutos?|minutes?)\b"
    rf"|\b(?P<vague>la proxima semana|la semana que viene|next week|esta semana|this week"
    rf"|en un momento|en unos minutos|ahora mismo|enseguida|right away|shortly|asap)\b"
)


def find_due(text: str, *, today: date | None) -> tuple[str | None, date | None]:
    """When something is due, as said and as a date (``None`` when it cannot be dated).

    >>> find_due("te llamo el viernes en la tarde", today=date(2025, 5, 6))
    ('el viernes', datetime.date(2025, 5, 9))
    >>> find_due("pasamos por la mañana", today=date(2025, 5, 6))
    (None, None)
    """
    folded = fold(text)
    match = _DUE.search(folded)
    if match is None:
        return None, None
    said = text[match.start() : match.end()] if len(folded) == len(text) else match.group(0)
    if today is None:
        return said, None
    due: date | None = None
    if match.group("after_tomorrow"):
        due = today + timedelta(days=2)
    elif match.group("tomorrow"):
        due = today + timedelta(days=1)
    elif match.group("today"):
        due = today
    elif match.group("weekday"):
        ahead = (_WEEKDAYS[match.group("weekday")] - today.weekday()) % 7
        due = today + timedelta(days=ahead or 7)
    elif match.group("day") or match.group("day2") or match.group("day3"):
        day = int(match.group("day") or match.group("day2") or match.group("day3"))
        month = _MONTHS[match.group("month") or match.group("month2") or match.group("month3")]
        due = _next_date(today, month, day)
    elif match.group("n"):
        raw = match.group("n")
        n = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
        unit = match.group("unit")
        days = n * 7 if unit.startswith(("semana", "week")) else n if unit[0] == "d" else 0
        due = today + timedelta(days=days)
    return said, due


def _next_date(today: date, month: int, day: int) -> date | None:
    for year in (today.year, today.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            return None
        if candidate >= today - timedelta(days=1):
            return candidate
    return None


# -- commitments -------------------------------------------------------------------------------

# First-person present or future forms that promise an action, mapped to the infinitive.
_ES_PROMISE_VERBS = {
    **dict.fromkeys(["envio", "enviamos", "enviare", "enviaremos"], "enviar"),
    **dict.fromkeys(["mando", "mandamos", "mandare", "mandaremos"], "mandar"),
    **dict.fromkeys(["confirmo", "confirmamos", "confirmare", "confirmaremos"], "confirmar"),
    **dict.fromkeys(["llamo", "llamamos", "llamare", "llamaremos"], "llamar"),
    **dict.fromkeys(["aviso", "avisamos", "avisare", "avisaremos"], "avisar"),
    **dict.fromkeys(["escribo", "escribimos", "escribire", "escribiremos"], "escribir"),
    **dict.fromkeys(["contacto", "contactamos", "contactare", "contactaremos"], "contactar"),
    **dict.fromkeys(["reviso", "revisamos", "revisare", "revisaremos"], "revisar"),
    **dict.fromkeys(["verifico", "verificamos", "verificare", "verificaremos"], "verificar"),
    **dict.fromkeys(["comparto", "compartimos", "compartire"], "compartir"),
    **dict.fromkeys(["devuelvo", "devolvemos", "devolvere", "devolveremos"], "devolver"),
    **dict.fromkeys(["reembolso", "reembolsamos", "reembolsaremos"], "reembolsar"),
    **dict.fromkeys(["despacho", "despachamos", "despachare", "despacharemos"], "despachar"),
    **dict.fromkeys(["entrego", "entregamos", "entregare", "entregaremos"], "entregar"),
    **dict.fromkeys(["agendo", "agendamos", "agendare", "agendaremos"], "agendar"),
    **dict.fromkeys(["transfiero", "transferimos", "transferire"], "transferir"),
    **dict.fromkeys(["pago", "pagare", "consigno", "consignare"], "pagar"),
    **dict.fromkeys(["gestiono", "gestionamos", "gestionare", "gestionaremos"], "gestionar"),
    **dict.fromkeys(["paso", "pasamos", "pasare", "pasaremos"], "pasar"),
    **dict.fromkeys(["hago", "hacemos", "hare", "haremos"], "hacer"),
    **dict.fromkeys(["recojo", "recogemos", "recogere"], "recoger"),
    **dict.fromkeys(["averiguo", "averiguamos", "averiguare"], "averiguar"),
    **dict.fromkeys(["cotizo", "cotizamos", "cotizare"], "cotizar"),
    **dict.fromkeys(["tendre", "tendremos"], "tener"),
    **dict.fromkeys(["pondre", "pondremos"], "poner"),
}
_ES_VERB = "|".join(sorted(_ES_PROMISE_VERBS, key=len, reverse=True))
_ES_FUTURE_ENDINGS = r"(?:are|aremos|ere|eremos|ire|iremos)"
_ES_PROMISE = [
    # "te envío …", "se lo confirmamos …", "le llamaremos …"
    re.compile(
        rf"\b(?:(?:te|le|les|se)\s+)(?:(?P<clitic>lo|la|los|las)\s+)?(?P<verb>{_ES_VERB})\b"
    ),
    # "voy a revisar …", "vamos a enviarle …": the infinitive is already there.
    re.compile(r"\b(?:voy|vamos|va|van) a (?P<inf>[a-z]+(?:ar|er|ir)(?:te|le|les|lo|la|se)?)\b"),
    # "mañana le envío …", "enviaremos …": a promise verb with a time or in the future tense.
    re.compile(rf"\b(?P<verb>{_ES_VERB})\b"),
    re.compile(r"\b(?:quedamos en(?: que)?|me comprometo a|nos comprometemos a)"),
    # "queda agendada el viernes a las 9": what was booked, not who acts.
    re.compile(
        r"\b(?:queda|quedo|quedaria) (?P<booked>agendad[oa]s?|reservad[oa]s?|programad[oa]s?)"
    ),
]
_EN_PROMISE = [
    re.compile(
        r"\b(?:i|we)\s*(?:'ll|’ll| will| shall|'m going to|’m going to| am going to"
        r"|'re going to|’re going to| are going to| promise to)\s+(?P<rest>(?!not\b|never\b).+)",
        re.I,
    ),
    re.compile(r"\blet me\s+(?P<rest>(?:check|confirm|see|look|find|ask|send|get).+)", re.I),
]
_ES_CLAUSE_LEADS = _wordset(
    "yo nosotros y e luego despues ahora manana hoy entonces listo ok vale bueno dale ya"
)
_NEGATION = re.compile(r"\b(?:no|nunca|jamas|not|never|won't|wont|cannot|can't)\b")


def find_commitment(
    sentence: str, lang: str, *, today: date | None
) -> tuple[str, str | None, date | None] | None:
    """``(what, due, due_date)`` when ``sentence`` promises an action, else ``None``.

    ``what`` starts with the verb: an infinitive in Spanish ("enviar la guía"), a bare verb in
    English ("send you the guide"), so it reads after "debe" / "will".

    >>> find_commitment("Vamos a revisar su caso y le confirmamos hoy", "es", today=None)
    ('revisar su caso y le confirmamos hoy', 'hoy', None)
    >>> find_commitment("I'll send you the invoice by Friday.", "en", today=None)
    ('send you the invoice by Friday', 'by Friday', None)
    >>> find_commitment("¿Me envías la foto?", "es", today=None) is None
    True
    """
    text = sentence.strip()
    if not text or "?" in text:
        return None
    folded = fold(text)
    what: str | None = None
    if lang == "es":
        what = _spanish_promise(text, folded)
    else:
        for pattern in _EN_PROMISE:
            match = pattern.search(text)
            if match:
                what = match.group("rest")
                break
    if what is None:
        return None
    what = _clause(what)
    if not what:
        return None
    due, due_date = find_due(what if lang == "en" else text, today=today)
    return what, due, due_date


def _spanish_promise(text: str, folded: str) -> str | None:
    # The earliest promise in the sentence wins: "vamos a revisar y le confirmamos" is about
    # reviewing first.
    found = sorted(
        (match.start(), index, match)
        for index, pattern in enumerate(_ES_PROMISE)
        for match in pattern.finditer(folded)
    )
    for _, index, match in found:
        what = _spanish_clause(text, folded, index, match)
        if what is not None:
            return what
    return None


def _spanish_clause(text: str, folded: str, index: int, match: re.Match[str]) -> str | None:
    before = folded[max(0, match.start() - 12) : match.start()]
    if _NEGATION.search(before):
        return None
    rest = (text[match.end() :] if len(folded) == len(text) else folded[match.end() :]).strip()
    if index == 0:
        return f"{_ES_PROMISE_VERBS[match.group('verb')]}{match.group('clitic') or ''} {rest}"
    if index == 1:
        return f"{match.group('inf')} {rest}"
    if index == 2:
        verb_form = match.group("verb")
        future = re.fullmatch(rf"[a-z]+{_ES_FUTURE_ENDINGS}", verb_form) is not None
        # A present form is a promise only as the first word of its clause and with a time
        # ("mañana paso por la tienda"); elsewhere "pago", "paso", "envío" are nouns.
        lead = folded[: match.start()].split()
        starts_clause = not lead or lead[-1] in _ES_CLAUSE_LEADS
        if not future and not (starts_clause and find_due(text, today=None)[0]):
            return None
        return f"{_ES_PROMISE_VERBS[verb_form]} {rest}"
    if index == 4:
        return f"{match.group('booked')} {rest}"
    return rest


def _clause(text: str, max_words: int = 16) -> str:
    text = re.split(r"[.;!\n]|\s[-–—]\s", text, maxsplit=1)[0]
    words = text.split()
    text = " ".join(words[:max_words])
    return text.strip(" ,:")


# -- preferences -------------------------------------------------------------------------------

_ES_PREFERENCES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bprefiero\s+(?P<rest>.+)", re.I), "prefiere"),
    (re.compile(r"\bno me gustan?\s+(?P<rest>.+)", re.I), "no le gusta"),
    (re.compile(r"\bme gustan?\s+(?P<rest>(?!que\b).+)", re.I), "le gusta"),
    (re.compile(r"\bme encantan?\s+(?P<rest>.+)", re.I), "le encanta"),
    (re.compile(r"\bsoy al[ée]rgic[oa] (?:a|al)\s+(?P<rest>.+)", re.I), "es alérgico a"),
    (re.compile(r"\b(?:mi talla es|uso (?:la )?talla|soy talla)\s+(?P<rest>\S+)", re.I), "talla"),
    (re.compile(r"\bsiempre (?:pido|compro|tomo|uso)\s+(?P<rest>.+)", re.I), "siempre pide"),
    (re.compile(r"\bmejor (?:ll[aá]m[ae]nme|escr[ií]banme)\s+(?P<rest>.+)", re.I), "prefiere"),
]
_EN_PREFERENCES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bI(?:'d| would) prefer\s+(?P<rest>.+)", re.I), "would prefer"),
    (re.compile(r"\bI(?:'d| would) rather\s+(?P<rest>.+)", re.I), "would rather"),
    (re.compile(r"\bI prefer\s+(?P<rest>.+)", re.I), "prefers"),
    (re.compile(r"\bI (?:don't|do not) like\s+(?P<rest>.+)", re.I), "doesn't like"),
    (re.compile(r"\bI (?:really )?like\s+(?P<rest>.+)", re.I), "likes"),
    (re.compile(r"\bI (?:really )?love\s+(?P<rest>.+)", re.I), "loves"),
    (re.compile(r"\bI'?m allergic to\s+(?P<rest>.+)", re.I), "is allergic to"),
    (re.compile(r"\bI am allergic to\s+(?P<rest>.+)", re.I), "is allergic to"),
    (re.compile(r"\bmy favou?rite\s+(?P<rest>.+)", re.I), "favourite"),
    (re.compile(r"\bI always (?:order|buy|get|use|take)\s+(?P<rest>.+)", re.I), "always orders"),
]
_EN_POSSESSIVES = [(re.compile(r"\bmy\b", re.I), "their"), (re.compile(r"\bme\b", re.I), "them")]
_ES_POSSESSIVES = [(re.compile(r"\bmis\b", re.I), "sus"), (re.compile(r"\bmi\b", re.I), "su")]


def find_preference(sentence: str, lang: str) -> str | None:
    """A customer's stated preference, in the third person, else ``None``.

    >>> find_preference("Prefiero que me llamen en la tarde, gracias", "es")
    'prefiere que me llamen en la tarde'
    >>> find_preference("I'd rather pay by card.", "en")
    'would rather pay by card'
    >>> find_preference("¿Te gusta?", "es") is None
    True
    """
    if "?" in sentence:
        return None
    rules = _ES_PREFERENCES if lang == "es" else _EN_PREFERENCES
    swaps = _ES_POSSESSIVES if lang == "es" else _EN_POSSESSIVES
    for pattern, lead in rules:
        match = pattern.search(sentence)
        if match is None:
            continue
        rest = re.split(r"[,.;!]|\b(?:pero|but|gracias|thanks)\b", match.group("rest"))[0]
        rest = " ".join(rest.split()[:10])
        for possessive, replacement in swaps:
            rest = possessive.sub(replacement, rest)
        if rest:
            return f"{lead} {rest}"
    return None
