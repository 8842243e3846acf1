"""Monthly migration statistics through the exchange (plan activity VI.3).

One message type, ``monitoring.statistics``, registered from ``MonitoringConfig.ready``,
carrying one country's figures for one month *after* disclosure control (``sdc.protect``):
border crossings reported, deportations, returns (a single count under the threshold is
withheld), and identified victims by form of exploitation and sex with its margins
(small cells withheld with complementary suppression). No personal data: counts only, and
the JSON Schema below is the allow-list (``additionalProperties: false`` at every level).

The receiver keeps the figures as the sender's, read-only; a later revision replaces an
earlier one, a repeated or older one changes nothing; a body claiming another country than
its sender, or a cell that is small but shown, is refused.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

from ctip.monitoring.models import SEX_COLUMNS, VICTIM_CATEGORIES

STATISTICS_TYPE = "monitoring.statistics"
SCHEMA_VERSION = 1

_COUNT = {"type": ["integer", "null"], "minimum": 0, "maximum": 100_000_000}


def _list(items: dict, n: int) -> dict:
    return {"type": "array", "minItems": n, "maxItems": n, "items": items}


_VICTIMS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["rows", "cols", "cells", "row_totals", "col_totals", "total"],
    "properties": {
        "rows": {"type": "array", "maxItems": 20, "items": {"enum": list(VICTIM_CATEGORIES)}},
        "cols": {"type": "array", "maxItems": 5, "items": {"enum": list(SEX_COLUMNS)}},
        "cells": {"type": "array", "maxItems": 20, "items": _list(_COUNT, len(SEX_COLUMNS))},
        "row_totals": {"type": "array", "maxItems": 20, "items": _COUNT},
        "col_totals": _list(_COUNT, len(SEX_COLUMNS)),
        "total": _COUNT,
    },
}

STATISTICS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "country",
        "month",
        "revision",
        "threshold",
        "border_crossings",
        "deportations",
        "returns",
        "victims",
    ],
    "properties": {
        "country": {"enum": ["KH", "CN"]},
        "month": {"type": "string", "pattern": r"^(19|20)\d\d-(0[1-9]|1[0-2])$"},
        "revision": {"type": "integer", "minimum": 1},
        "threshold": {"type": "integer", "minimum": 1, "maximum": 1000},
        "border_crossings": _COUNT,
        "deportations": _COUNT,
        "returns": _COUNT,
        "victims": {"oneOf": [{"type": "null"}, _VICTIMS]},
    },
}


def register() -> None:
    from ctip.exchange.registry import register_message_type

    register_message_type(
        STATISTICS_TYPE, SCHEMA_VERSION, STATISTICS_SCHEMA, handle_statistics, personal_data=False
    )


def peers() -> list[str]:
    from ctip.exchange.models import Peer

    return list(Peer.objects.exclude(node_id=settings.CTIP_NODE).values_list("node_id", flat=True))


def _small_shown(body: dict) -> bool:
    k = body["threshold"]

    def small(v):
        return v is not None and 0 < v < k

    if any(small(body[f]) for f in ("border_crossings", "deportations", "returns")):
        return True
    table = body["victims"]
    if not table:
        return False
    values = [v for line in table["cells"] for v in line]
    values += table["row_totals"] + table["col_totals"] + [table["total"]]
    return any(small(v) for v in values)


def handle_statistics(message) -> None:
    from ctip.exchange.core import HandlerRefused
    from ctip.monitoring.services import statistics_receive

    body, sender = message.body, message.sender
    if body["country"] != sender:
        raise HandlerRefused("a node may only send its own country's statistics")
    if _small_shown(body):
        raise HandlerRefused("a figure below the sender's own threshold was not withheld")
    table = body["victims"]
    if table and (
        len(table["cells"]) != len(table["rows"]) or len(table["row_totals"]) != len(table["rows"])
    ):
        raise HandlerRefused("the victims table's rows do not match its cells")
    try:
        statistics_receive(sender=sender, body=body)
    except ValidationError as exc:
        raise HandlerRefused(f"invalid statistics: {'; '.join(exc.messages)}") from None
