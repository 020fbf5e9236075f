"""Bringing existing history into recuerdo: WhatsApp chat exports, BuilderBot databases, JSONL.

Every importer streams: it yields ``(NewMessage, line_no)`` pairs and :class:`ParseProblem` items,
and :func:`record_in_batches` stores them through ``Memory.record_many``. External ids make
every import idempotent.

>>> from recuerdo.importers import import_whatsapp, parse_export, read_jsonl, write_jsonl
"""

from recuerdo.importers.builderbot import read_builderbot_json, read_builderbot_mongo_export
from recuerdo.importers.builderbot_postgres import (
    ClientAttributes,
    read_builderbot_contacts,
    read_builderbot_postgres,
)
from recuerdo.importers.jsonl import read_jsonl, write_jsonl
from recuerdo.importers.recording import MessageRecorder, record_in_batches
from recuerdo.importers.report import ImportProgress, ImportReport, ParseProblem
from recuerdo.importers.sources import ExportSource
from recuerdo.importers.whatsapp import (
    ExportSurvey,
    ParsedMessage,
    parse_export,
    survey_export,
)
from recuerdo.importers.whatsapp_headers import DateOrder
from recuerdo.importers.whatsapp_import import import_whatsapp
from recuerdo.importers.whatsapp_roles import ExternalIds, RolePlan, plan_roles, to_new_messages

__all__ = [
    "ClientAttributes",
    "DateOrder",
    "ExportSource",
    "ExportSurvey",
    "ExternalIds",
    "ImportProgress",
    "ImportReport",
    "MessageRecorder",
    "ParseProblem",
    "ParsedMessage",
    "RolePlan",
    "import_whatsapp",
    "parse_export",
    "plan_roles",
    "read_builderbot_contacts",
    "read_builderbot_json",
    "read_builderbot_mongo_export",
    "read_builderbot_postgres",
    "read_jsonl",
    "record_in_batches",
    "survey_export",
    "to_new_messages",
    "write_jsonl",
]
