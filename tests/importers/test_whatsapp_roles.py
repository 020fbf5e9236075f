"""Role mapping, client identity and external ids of WhatsApp exports, without a store."""

from __future__ import annotations

from datetime import UTC

import pytest

from recuerdo.errors import InvalidInput
from recuerdo.importers import ExportSource, ParseProblem, parse_export, survey_export
from recuerdo.importers.whatsapp_roles import SOURCE, plan_roles, to_new_messages
from recuerdo.model import NewMessage, Role
from tests.importers.conftest import EXPORTS

CHAT = """\
[02/03/24, 09:00:00] Los mensajes y las llamadas están cifrados de extremo a extremo.
[02/03/24, 09:00:05] Ana Pérez: Hola, ¿tienen domicilio?
[02/03/24, 09:00:09] Tienda Sol: ¡Hola Ana! Sí, a toda la ciudad.
[02/03/24, 09:01:00] Ana Pérez: imagen omitida
[02/03/24, 09:01:00] Ana Pérez: ok
[02/03/24, 09:01:00] Ana Pérez: ok
[02/03/24, 09:05:00] Laura (asesora): Te ayudo con el pedido.
[15/03/24, 18:00:00] Ana Pérez: Ubicación: https://maps.google.com/?q=4.6,-74.1
"""


def _source(text: str = CHAT, name: str = "chat.txt") -> ExportSource:
    return ExportSource.from_bytes(name, text.encode())


def _new_messages(
    text: str = CHAT, *, keep_system: bool = True, **plan: object
) -> list[NewMessage]:
    survey = survey_export(_source(text))
    role_plan = plan_roles(survey, **plan)  # type: ignore[arg-type]
    out = []
    for item in to_new_messages(
        parse_export(survey.source, survey=survey), role_plan, keep_system=keep_system
    ):
        assert not isinstance(item, ParseProblem)
        out.append(item[0])
    return out


def test_business_operator_client_and_system_roles() -> None:
    messages = _new_messages(
        business="Tienda Sol", operators=["Laura (asesora)"], phone="+57 300 123 4567"
    )
    assert [m.role for m in messages] == [
        Role.SYSTEM,
        Role.USER,
        Role.ASSISTANT,
        Role.USER,
        Role.USER,
        Role.USER,
        Role.MANUAL_OPERATOR,
        Role.USER,
    ]
    assert {m.who for m in messages} == {"+57 300 123 4567"}
    assert messages[1].metadata == {"source": SOURCE, "author": "Ana Pérez"}
    assert messages[1].profile_name == "Ana Pérez"
    assert messages[2].profile_name is None
    assert [m.content_type for m in messages][3::4] == ["image", "location"]
    assert all(m.at is not None and m.at.tzinfo is not None for m in messages)


def test_names_match_ignoring_case_and_spacing() -> None:
    messages = _new_messages(
        business="  tienda   SOL ", operators=["laura (ASESORA)"], phone="573001234567"
    )
    assert messages[2].role is Role.ASSISTANT
    assert messages[6].role is Role.MANUAL_OPERATOR


def test_identical_messages_in_the_same_second_get_different_ids() -> None:
    messages = _new_messages(
        business="Tienda Sol", operators=["Laura (asesora)"], phone="573001234567"
    )
    ids = [m.external_id for m in messages]
    assert len(set(ids)) == len(ids)
    assert all(i is not None and i.startswith("wa-export:") for i in ids)


def test_ids_start_with_the_utc_second_so_they_grow_with_time() -> None:
    messages = _new_messages(
        business="Tienda Sol", operators=["Laura (asesora)"], phone="573001234567"
    )
    for m in messages:
        assert m.external_id is not None and m.at is not None
        stamp = m.external_id.removeprefix("wa-export:").split("-")[0]
        assert stamp == m.at.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    stamps = [m.external_id.split("-")[1] for m in messages if m.external_id]
    assert stamps == sorted(stamps)


def test_ids_do_not_depend_on_line_numbers_or_the_file_name() -> None:
    plan = {"business": "Tienda Sol", "operators": ["Laura (asesora)"], "phone": "573001234567"}
    whole = _new_messages(**plan)
    later = _new_messages("\n\n" + "".join(CHAT.splitlines(keepends=True)[4:]), **plan)
    by_id = {m.external_id: m.content for m in whole}
    assert all(by_id[m.external_id] == m.content for m in later)


def test_ids_depend_on_the_client() -> None:
    plan = {"business": "Tienda Sol", "operators": ["Laura (asesora)"]}
    one = _new_messages(phone="573001234567", **plan)
    other = _new_messages(phone="573009999999", **plan)
    assert not {m.external_id for m in one} & {m.external_id for m in other}


def test_system_lines_can_be_left_out() -> None:
    messages = _new_messages(
        business="Tienda Sol",
        operators=["Laura (asesora)"],
        phone="573001234567",
        keep_system=False,
    )
    assert Role.SYSTEM not in {m.role for m in messages}
    assert len(messages) == 7


def test_phone_number_author_is_the_client_without_phone_option() -> None:
    text = "31/12/23, 14:05 - +57 300 123 4567: hola\n31/12/23, 14:06 - Tienda: buenas\n"
    messages = _new_messages(text, business="Tienda")
    assert {m.who for m in messages} == {"+57 300 123 4567"}
    assert messages[0].profile_name is None


def test_wrong_business_name_lists_the_authors_found() -> None:
    with pytest.raises(InvalidInput) as caught:
        _new_messages(business="Tienda Luna", phone="573001234567")
    message = str(caught.value)
    assert "Tienda Luna" in message
    assert "'Ana Pérez' (5)" in message
    assert "'Tienda Sol' (1)" in message


def test_client_known_only_by_name_needs_a_phone() -> None:
    with pytest.raises(InvalidInput, match="phone="):
        _new_messages(business="Tienda Sol", operators=["Laura (asesora)"])


def test_unlisted_second_person_makes_it_a_group() -> None:
    with pytest.raises(InvalidInput, match="group chat"):
        _new_messages(business="Tienda Sol", phone="573001234567")


def test_invalid_phone_option_is_refused() -> None:
    with pytest.raises(InvalidInput, match="phone="):
        _new_messages(business="Tienda Sol", operators=["Laura (asesora)"], phone="not a phone")


@pytest.mark.parametrize("name", ["chat-analytics/4A_11M.txt", "WhatsR/englishandroid24h.txt"])
def test_group_exports_are_refused_unless_allowed(name: str) -> None:
    survey = survey_export(EXPORTS / name)
    with pytest.raises(InvalidInput, match="group chat"):
        plan_roles(survey, business="Alice", phone="573001234567")
    plan = plan_roles(survey, business="Alice", phone="573001234567", allow_groups=True)
    assert plan.group
    messages = [
        i[0]
        for i in to_new_messages(parse_export(survey.source, survey=survey), plan)
        if not isinstance(i, ParseProblem)
    ]
    authors = {m.metadata["author"] for m in messages if m.role is Role.USER and m.metadata}
    assert "Bob" in authors
    assert all(m.profile_name is None for m in messages)


def test_one_to_one_real_export_maps_cleanly() -> None:
    survey = survey_export(EXPORTS / "chat-analytics" / "2A_5M.txt")
    plan = plan_roles(survey, business="A", phone="+57 300 123 4567")
    assert plan.client_author == "B"
    assert not plan.group
