"""Hardened XML parsing for everything qbrecon reads from QuickBooks Desktop.

Neither qbXML nor the Web Connector's SOAP envelopes ever carry a DTD, so a document
that declares one (or an entity) is refused before it reaches a parser; the parse
itself runs through :mod:`defusedxml` with DTDs forbidden as a second line of defence.
Every failure is an :class:`~qbrecon.errors.InputError` naming the file, line and column.

Example:
    >>> root = parse_xml(b"<QBXML><QBXMLMsgsRs/></QBXML>")
    >>> root.tag
    'QBXML'
    >>> parse_xml("<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", file="rs.xml")
    Traceback (most recent call last):
    ...
    qbrecon.errors.InputError: rs.xml: XML with a DOCTYPE or entity declaration is refused
      - row 1, column '1': qbXML never declares a DTD or entities; this document does (got '<!DOCTYPE')
"""

from __future__ import annotations

import codecs
import logging
import re
import xml.etree.ElementTree as ET

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from .errors import InputError, Problem

log = logging.getLogger("qbrecon")

#: default size limit: a list response for a very large company file fits comfortably
MAX_XML_BYTES = 64 * 1024 * 1024

#: the synthetic root that holds several concatenated documents (``fragments=True``)
FRAGMENTS_ROOT = "qbrecon-documents"

_DECLARATION = re.compile(r"<\?xml\b[^?]*\?>")
_FORBIDDEN = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def decode_xml(data: bytes | str, *, file: str | None = None) -> str:
    """The text of an XML document given as bytes (BOM, declared encoding, else UTF-8).

    Undeclared bytes that are not UTF-8 are read as Windows-1252, which is what
    QuickBooks Desktop writes on a Windows machine; a log message says so.
    """
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                     (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return _decode(data[len(bom):], enc, file)
    m = _ENCODING.match(data[:400])
    if m:
        return _decode(data, m.group(1).decode("ascii"), file)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        log.info("%s: XML is not UTF-8 and declares no encoding; reading it as Windows-1252",
                 file or "XML")
        return _decode(data, "cp1252", file)


def _decode(data: bytes, encoding: str, file: str | None) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"XML declares an unknown encoding {encoding!r}", file=file) from None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"XML is not valid {encoding}",
            file=file,
            problems=[Problem(f"byte {data[exc.start]:#04x} cannot be read as {encoding}", row=line)],
        ) from None


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def parse_xml(
    data: bytes | str,
    *,
    file: str | None = None,
    max_bytes: int = MAX_XML_BYTES,
    fragments: bool = False,
) -> ET.Element:
    """Parse untrusted XML into an :class:`xml.etree.ElementTree.Element`.

    Args:
        data: the document, as bytes (encoding from the BOM or declaration) or text.
        file: the file it came from, for error messages.
        max_bytes: refuse larger documents.
        fragments: accept several top-level elements (documents written one after
            another, as a Web Connector iterator's pages saved to one file). They are
            returned as the children of one synthetic ``qbrecon-documents`` root.

    Returns:
        The root element (or the synthetic root when ``fragments`` is true).

    Raises:
        InputError: too large, a DOCTYPE or entity declaration, or not well-formed;
            the message names the file and the line and column of the fault.

    Example:
        >>> parse_xml("<a/><b/>", fragments=True)[1].tag
        'b'
    """
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise InputError(f"XML of {size:,} bytes is larger than the limit of {max_bytes:,} bytes",
                         file=file)
    text = decode_xml(data, file=file)
    bad = _FORBIDDEN.search(text)
    if bad:
        line, col = _line_col(text, bad.start())
        raise InputError(
            "XML with a DOCTYPE or entity declaration is refused",
            file=file,
            problems=[Problem("qbXML never declares a DTD or entities; this document does",
                              row=line, column=str(col), value=bad.group(0))],
        )
    # A declaration is only legal at the very start of one document; blank them out
    # (same length, so reported columns stay true) and let the parser see plain text.
    text = _DECLARATION.sub(lambda m: " " * len(m.group(0)), text)
    if fragments:
        # The opening tag goes on the first line without a newline: line numbers stay true.
        text = f"<{FRAGMENTS_ROOT}>{text}</{FRAGMENTS_ROOT}>"
    try:
        return DET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except ET.ParseError as exc:
        line, col = exc.position
        if fragments and line == 1:
            col -= len(FRAGMENTS_ROOT) + 2
        reason = re.sub(r":\s*line \d+, column \d+$", "", str(exc))
        raise InputError("not well-formed XML", file=file,
                         problems=[Problem(reason, row=line, column=str(col + 1))]) from None
    except DefusedXmlException as exc:  # pragma: no cover - refused above already
        raise InputError(f"XML refused: {exc}", file=file) from None


def local_name(tag: str) -> str:
    """The tag without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


__all__ = ["FRAGMENTS_ROOT", "MAX_XML_BYTES", "decode_xml", "local_name", "parse_xml"]
