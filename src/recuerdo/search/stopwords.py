"""Stop words for Spanish and English, already folded (lower case, no accents).

The lists follow the Snowball project's stop-word lists, folded the way :mod:`recuerdo.search.text`
folds words, plus the short fragments that English contractions leave behind ("don't" → "don",
"t") and the chat fillers that carry no meaning in a customer conversation ("ok", "jaja").
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SPANISH: frozenset[str] = _words(
    """
    a al algo algunas algunos ante antes como con contra cual cuando de del desde donde durante
    e el ella ellas ellos en entre era erais eramos eran eras eres es esa esas ese eso esos esta
    estaba estabais estabamos estaban estabas estad estada estadas estado estados estais estamos
    estan estar estara estaran estaras estare estareis estaremos estaria estariais estariamos
    estarian estarias estas este esteis estemos esten estes esto estos estoy estuve estuviera
    estuvierais estuvieramos estuvieran estuvieras estuvieron estuviese estuvieseis estuviesemos
    estuviesen estuvieses estuvimos estuviste estuvisteis estuvo fue fuera fuerais fueramos fueran
    fueras fueron fuese fueseis fuesemos fuesen fueses fui fuimos fuiste fuisteis ha habeis habia
    habiais habiamos habian habias habida habidas habido habidos habiendo habra habran habras habre
    habreis habremos habria habriais habriamos habrian habrias han has hasta hay haya hayais hayamos
    hayan hayas he hemos hube hubiera hubierais hubieramos hubieran hubieras hubieron hubiese
    hubieseis hubiesemos hubiesen hubieses hubimos hubiste hubisteis hubo la las le les lo los me
    mi mia mias mio mios mis mucho muchos muy nada ni no nos nosotras nosotros nuestra nuestras
    nuestro nuestros o os otra otras otro otros para pero poco por porque que quien quienes se sea
    seais seamos sean seas sera seran seras sere sereis seremos seria seriais seriamos serian
    serias si sido siendo sin sobre sois somos son soy su sus suya suyas suyo suyos tambien tanto
    te tendra tendran tendras tendre tendreis tendremos tendria tendriais tendriamos tendrian
    tendrias tened teneis tenemos tenga tengais tengamos tengan tengas tengo tenia teniais teniamos
    tenian tenias tenida tenidas tenido tenidos teniendo ti tiene tienen tienes todo todos tu tus
    tuve tuviera tuvierais tuvieramos tuvieran tuvieras tuvieron tuviese tuvieseis tuviesemos
    tuviesen tuvieses tuvimos tuviste tuvisteis tuvo tuya tuyas tuyo tuyos un una uno unos usted
    ustedes vosotras vosotros y ya yo
    ok okay vale jaja jajaja jeje xd pues bueno
    """
)

ENGLISH: frozenset[str] = _words(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other ought our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t d ll m re ve don doesn didn isn aren wasn weren hasn haven hadn wouldn shouldn couldn
    mustn needn shan let lets im ive youre youve hes shes thats theres
    ok okay oh hey hi yeah yes yep hmm lol haha wow
    """
)

BY_LANGUAGE: dict[str, frozenset[str]] = {"es": SPANISH, "en": ENGLISH}

# Words that tell the languages apart: stop words of one language that are not words of the
# other. "a", "no", "me", "he" and the fillers are in both lists, so they decide nothing.
SPANISH_MARKERS: frozenset[str] = SPANISH - ENGLISH - {"ok", "okay", "e", "o", "y"}
ENGLISH_MARKERS: frozenset[str] = (
    ENGLISH
    - SPANISH
    - {
        "s",
        "t",
        "d",
        "m",
        "hi",
        "ok",
        "okay",
        "oh",
        "hey",
        "yes",
        "lol",
        "wow",
        "haha",
    }
)
