"""Hardened XML parsing for everything the Web Connector posts.

Neither a SOAP envelope from QBWC nor a qbXML response from QuickBooks ever carries a
DTD, so any DOCTYPE or entity declaration is refused before parsing (no external
entities, no billion laughs), and the parser itself runs with DTDs, entities and
external references forbidden.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class XMLRejected(ValueError):
    """The text is not XML qbrecon accepts (malformed, or it declares a DTD or entities)."""


def parse_xml(data: bytes | str) -> ET.Element:
    """Parse ``data`` refusing DTDs, entities and external references.

    Raises:
        XMLRejected: with a one-line reason.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if _DECLARATION.search(raw) or _DECLARATION.search(raw.replace(b"\x00", b"")):
        raise XMLRejected("XML with a DOCTYPE or entity declaration is not accepted")
    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise XMLRejected(f"XML refused: {type(exc).__name__}") from None
    except ET.ParseError as exc:
        raise XMLRejected(f"not well-formed XML ({exc})") from None
    except (ValueError, UnicodeError) as exc:  # e.g. an unknown encoding declaration
        raise XMLRejected(f"not readable XML ({exc})") from None
