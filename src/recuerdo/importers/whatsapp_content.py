"""What a WhatsApp export line means beyond its text: media left out, attachments, deleted
messages, locations, edits, and the app's own notices — in English, Spanish, Portuguese, German,
French and Italian.

Media the export left out becomes a placeholder (``<image omitted>``) with the matching content
type, so history keeps the fact that the client sent a photo; a caption on the following lines
is kept after the placeholder.
"""

from __future__ import annotations

import re

from recuerdo.model import ContentType

_T = ContentType

# Exact texts (lower case, without surrounding "<>" and a final ".") the app writes in place of
# a message, mapped to (content type, placeholder stored instead).
_OMITTED: dict[str, tuple[ContentType, str]] = {}


def _add(kind: ContentType, placeholder: str, *texts: str) -> None:
    for text in texts:
        _OMITTED[text] = (kind, placeholder)


_add(
    _T.OTHER,
    "<media omitted>",
    "media omitted",
    "multimedia omitido",
    "archivo omitido",
    "mídia oculta",
    "arquivo de mídia oculto",
    "medien ausgeschlossen",
    "medien weggelassen",
    "médias omis",
    "fichier omis",
    "media omessi",
)
_add(
    _T.IMAGE,
    "<image omitted>",
    "image omitted",
    "photo omitted",
    "imagen omitida",
    "foto omitida",
    "imagem ocultada",
    "imagem omitida",
    "bild weggelassen",
    "image omise",
    "immagine omessa",
)
_add(
    _T.AUDIO,
    "<audio omitted>",
    "audio omitted",
    "voice message omitted",
    "audio omitido",
    "áudio ocultado",
    "áudio omitido",
    "audio weggelassen",
    "audio omis",
    "audio omesso",
)
_add(
    _T.VIDEO,
    "<video omitted>",
    "video omitted",
    "gif omitted",
    "video note omitted",
    "video omitido",
    "gif omitido",
    "vídeo ocultado",
    "vídeo omitido",
    "gif ocultado",
    "video weggelassen",
    "gif weggelassen",
    "vidéo omise",
    "gif omis",
    "video omesso",
    "gif omessa",
)
_add(
    _T.STICKER,
    "<sticker omitted>",
    "sticker omitted",
    "sticker omitido",
    "figurinha omitida",
    "figurinha ocultada",
    "sticker weggelassen",
    "sticker omis",
    "autocollant omis",
    "sticker omesso",
)
_add(
    _T.DOCUMENT,
    "<document omitted>",
    "document omitted",
    "documento omitido",
    "documento ocultado",
    "dokument weggelassen",
    "document omis",
    "documento omesso",
)
_add(
    _T.CONTACT,
    "<contact card omitted>",
    "contact card omitted",
    "tarjeta de contacto omitida",
    "cartão de contato omitido",
    "kontaktkarte ausgelassen",
    "kontakt weggelassen",
    "fiche contact omise",
    "scheda contatto omessa",
)
_add(
    _T.DELETED,
    "<message deleted>",
    "this message was deleted",
    "you deleted this message",
    "se eliminó este mensaje",
    "eliminaste este mensaje",
    "este mensaje fue eliminado",
    "mensaje eliminado",
    "mensagem apagada",
    "esta mensagem foi apagada",
    "você apagou esta mensagem",
    "diese nachricht wurde gelöscht",
    "du hast diese nachricht gelöscht",
    "ce message a été supprimé",
    "vous avez supprimé ce message",
    "questo messaggio è stato eliminato",
    "hai eliminato questo messaggio",
)
_add(
    _T.LOCATION,
    "<live location shared>",
    "live location shared",
    "ubicación en tiempo real compartida",
    "localização em tempo real compartilhada",
    "live-standort wird geteilt",
    "live-standort geteilt",
    "position en direct partagée",
    "posizione in tempo reale condivisa",
)

_LONGEST_PLACEHOLDER = max(len(t) for t in _OMITTED) + 8  # room for "<", ">", ".", spaces
_DOCUMENT_ENDINGS = (
    "document omitted",
    "documento omitido",
    "dokument weggelassen",
    "document omis",
    "documento omesso",
)
_ATTACHED_SUFFIX = re.compile(
    r"(?P<file>.+?\.\w{1,6}) \((?:file attached|archivo adjunto|arquivo anexado|"
    r"datei angehängt|fichier joint|file allegato)\)",
    re.IGNORECASE,
)
_ATTACHED_TAG = re.compile(
    r"<(?:attached|adjunto|anexado|anhang|pièce jointe|allegato) ?: ?(?P<file>[^>]+)>",
    re.IGNORECASE,
)
# iOS names documents before the marker: "Factura.pdf • 2 pages document omitted".
_DOCUMENT_SUFFIX = re.compile(
    r".+(?:document omitted|documento omitido|dokument weggelassen|document omis|"
    r"documento omesso)",
    re.IGNORECASE,
)
_LOCATION = re.compile(
    r"(?:location|ubicación|localización|localização|standort|position|localisation|posizione)"
    r" ?: ?https?://\S+",
    re.IGNORECASE,
)
_EDITED = re.compile(
    r"\s*<(?:this message was edited|se editó este mensaje\.?|mensaje editado|"
    r"mensagem editada|diese nachricht wurde bearbeitet|ce message a été modifié|"
    r"messaggio modificato)>\s*$",
    re.IGNORECASE,
)

_EXTENSION_TYPES: dict[str, ContentType] = {
    **dict.fromkeys(["jpg", "jpeg", "png", "heic", "bmp"], _T.IMAGE),
    **dict.fromkeys(["opus", "ogg", "mp3", "m4a", "aac", "wav", "amr"], _T.AUDIO),
    **dict.fromkeys(["mp4", "3gp", "mov", "avi", "mkv", "gif"], _T.VIDEO),
    "webp": _T.STICKER,
    "vcf": _T.CONTACT,
}

ENCRYPTION_NOTICE = re.compile(
    r"(?:end-to-end|de extremo a extremo|ponta a ponta|ende-zu-ende|de bout en bout|"
    r"crittografia end-to-end|crittografati)",
    re.IGNORECASE,
)
"""The app's encryption notice; some exports print it with the chat's name as its author."""

GROUP_NOTICE = re.compile(
    r"\b(?:group|grupo|gruppe|groupe|gruppo|added|removed|joined|left)\b|"
    r"añadió|agregó|se unió|salió del|adicionou|removeu|saiu|entrou usando|"
    r"hinzugefügt|entfernt|beigetreten|verlassen|ajouté|a quitté|a rejoint|"
    r"aggiunto|ha abbandonato|è entrato",
    re.IGNORECASE,
)
"""System lines that only group chats have (created group, X added Y, X left …)."""


def classify(text: str) -> tuple[ContentType, str, bool]:
    """Content type, the content to store, and whether the message was edited.

    >>> classify("<Multimedia omitido>")
    (<ContentType.OTHER: 'other'>, '<media omitted>', False)
    >>> classify("PTT-20180129-WA0025.opus (file attached)")
    (<ContentType.AUDIO: 'audio'>, '<attached: PTT-20180129-WA0025.opus>', False)
    >>> classify("Ubicación: https://maps.google.com/?q=4.6,-74.1")
    (<ContentType.LOCATION: 'location'>, 'Ubicación: https://maps.google.com/?q=4.6,-74.1', False)
    >>> classify("hola <This message was edited>")
    (<ContentType.TEXT: 'text'>, 'hola', True)
    """
    edited = False
    if text[-1:] == ">" and _EDITED.search(text):
        text = _EDITED.sub("", text)
        edited = True
    if not text:
        return _T.OTHER, "<empty message>", edited
    newline = text.find("\n")
    first = text if newline < 0 else text[:newline]
    # Cheap tests on the first line decide which (slower) pattern may apply at all.
    if len(first) <= _LONGEST_PLACEHOLDER:
        found = _OMITTED.get(first.strip().lower().rstrip(".").strip("<>"))
        if found is not None:
            caption = "" if newline < 0 else text[newline:]
            return found[0], found[1] + caption, edited
    last = first[-1:]
    attached = None
    if last == ")":
        attached = _ATTACHED_SUFFIX.fullmatch(first)
    elif last == ">" and first[:1] == "<":
        attached = _ATTACHED_TAG.fullmatch(first)
    if attached is not None:
        name = attached["file"].strip()
        caption = "" if newline < 0 else text[newline:]
        return _attachment_type(name), f"<attached: {name}>" + caption, edited
    if first[-16:].lower().endswith(_DOCUMENT_ENDINGS) and _DOCUMENT_SUFFIX.fullmatch(first):
        return _T.DOCUMENT, text, edited
    if first.find(":", 0, 20) > 0 and _LOCATION.match(first):
        return _T.LOCATION, text, edited
    return _T.TEXT, text, edited


def _attachment_type(name: str) -> ContentType:
    extension = name.rsplit(".", 1)[-1].lower()
    upper = name.upper()
    if upper.startswith("STK-"):
        return _T.STICKER
    if upper.startswith("PTT-") or upper.startswith("AUD-"):
        return _T.AUDIO
    return _EXTENSION_TYPES.get(extension, _T.DOCUMENT)
