"""Media, attachments, deleted messages, locations and edits in six languages."""

from __future__ import annotations

import pytest

from recuerdo.importers.whatsapp_content import classify
from recuerdo.model import ContentType as T


@pytest.mark.parametrize(
    ("text", "kind", "content"),
    [
        # English
        ("<Media omitted>", T.OTHER, "<media omitted>"),
        ("image omitted", T.IMAGE, "<image omitted>"),
        ("audio omitted", T.AUDIO, "<audio omitted>"),
        ("video omitted", T.VIDEO, "<video omitted>"),
        ("sticker omitted", T.STICKER, "<sticker omitted>"),
        ("GIF omitted", T.VIDEO, "<video omitted>"),
        ("Contact card omitted", T.CONTACT, "<contact card omitted>"),
        ("This message was deleted", T.DELETED, "<message deleted>"),
        ("You deleted this message.", T.DELETED, "<message deleted>"),
        ("Factura.pdf • 2 pages document omitted", T.DOCUMENT, None),
        # Spanish
        ("<Multimedia omitido>", T.OTHER, "<media omitted>"),
        ("imagen omitida", T.IMAGE, "<image omitted>"),
        ("audio omitido", T.AUDIO, "<audio omitted>"),
        ("sticker omitido", T.STICKER, "<sticker omitted>"),
        ("documento omitido", T.DOCUMENT, "<document omitted>"),
        ("Video omitido", T.VIDEO, "<video omitted>"),
        ("Se eliminó este mensaje.", T.DELETED, "<message deleted>"),
        ("Eliminaste este mensaje.", T.DELETED, "<message deleted>"),
        (
            "IMG-1.jpg (archivo adjunto)",
            T.IMAGE,
            "<attached: IMG-1.jpg>",
        ),
        (
            "<adjunto: 03-AUDIO.opus>",
            T.AUDIO,
            "<attached: 03-AUDIO.opus>",
        ),
        ("Ubicación: https://maps.google.com/?q=4.6,-74.1", T.LOCATION, None),
        ("ubicación en tiempo real compartida", T.LOCATION, "<live location shared>"),
        # Portuguese
        ("<Mídia oculta>", T.OTHER, "<media omitted>"),
        ("imagem ocultada", T.IMAGE, "<image omitted>"),
        ("figurinha omitida", T.STICKER, "<sticker omitted>"),
        ("Mensagem apagada", T.DELETED, "<message deleted>"),
        (
            "DOC-2.pdf (arquivo anexado)",
            T.DOCUMENT,
            "<attached: DOC-2.pdf>",
        ),
        ("Localização: https://maps.google.com/?q=-23.5,-46.6", T.LOCATION, None),
        # German
        ("<Medien ausgeschlossen>", T.OTHER, "<media omitted>"),
        ("Bild weggelassen", T.IMAGE, "<image omitted>"),
        (
            "PTT-25.opus (Datei angehängt)",
            T.AUDIO,
            "<attached: PTT-25.opus>",
        ),
        ("<Anhang: STK-3.webp>", T.STICKER, "<attached: STK-3.webp>"),
        ("Diese Nachricht wurde gelöscht.", T.DELETED, "<message deleted>"),
        ("Standort: https://maps.google.com/?q=50.9,6.9", T.LOCATION, None),
        # French
        ("<Médias omis>", T.OTHER, "<media omitted>"),
        ("image omise", T.IMAGE, "<image omitted>"),
        ("VID-4.mp4 (fichier joint)", T.VIDEO, "<attached: VID-4.mp4>"),
        ("Ce message a été supprimé", T.DELETED, "<message deleted>"),
        # Italian
        ("<Media omessi>", T.OTHER, "<media omitted>"),
        ("immagine omessa", T.IMAGE, "<image omitted>"),
        ("contatto.vcf (file allegato)", T.CONTACT, "<attached: contatto.vcf>"),
        ("Questo messaggio è stato eliminato", T.DELETED, "<message deleted>"),
        ("posizione: https://maps.google.com/?q=41.9,12.5", T.LOCATION, None),
    ],
)
def test_placeholders_become_content_types(text: str, kind: T, content: str | None) -> None:
    # None: the text itself is kept (locations, named documents).
    assert classify(text) == (kind, content if content is not None else text, False)


def test_caption_after_an_attachment_is_kept() -> None:
    kind, content, _ = classify("IMG-1.jpg (file attached)\nmi factura de enero")
    assert (kind, content) == (T.IMAGE, "<attached: IMG-1.jpg>\nmi factura de enero")


@pytest.mark.parametrize(
    "text",
    ["ok <This message was edited>", "ok <Se editó este mensaje.>", "ok <Mensaje editado>"],
)
def test_edit_marks_are_removed_and_remembered(text: str) -> None:
    assert classify(text) == (T.TEXT, "ok", True)


@pytest.mark.parametrize(
    "text",
    [
        "the image omitted from the catalogue was the red one",
        "mi ubicación es la calle 10",
        "<b>bold</b>",
        "a" * 400,
    ],
)
def test_ordinary_text_stays_text(text: str) -> None:
    assert classify(text) == (T.TEXT, text, False)
