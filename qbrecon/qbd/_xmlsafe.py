"""The Web Connector's view of qbrecon's hardened XML parser (:mod:`qbrecon._xml`).

Neither a SOAP envelope from the Web Connector nor a qbXML response from QuickBooks
ever carries a DTD: any DOCTYPE or entity declaration is refused before parsing (no
external entities, no billion laughs), and the parse runs with DTDs, entities and
external references forbidden. Here a refusal is an :class:`XMLRejected` (a
``ValueError``), which the service turns into a SOAP fault or a clear session error.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .._xml import MAX_XML_BYTES
from .._xml import parse_xml as _parse_xml
from ..errors import InputError


class XMLRejected(ValueError):
    """The text is not XML qbrecon accepts (malformed, too large, or it declares a DTD
    or entities)."""


def parse_xml(data: bytes | str, *, max_bytes: int = MAX_XML_BYTES) -> ET.Element:
    """Parse ``data`` refusing DTDs, entities and external references.

    Raises:
        XMLRejected: with the reason in one line.
    """
    try:
        return _parse_xml(data, max_bytes=max_bytes)
    except InputError as exc:
        detail = f" ({exc.problems[0]})" if exc.problems else ""
        raise XMLRejected(f"{exc.summary}{detail}") from None
