"""Background work driven by the database: close idle conversations, summarise closed ones and
refresh client profiles. Runs inside ``recuerdo serve`` and as ``recuerdo worker``."""
