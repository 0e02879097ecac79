"""The Web Connector's SOAP 1.1 wire format: parse a request, render a response or a fault.

The Web Connector (QBWC) is a .NET SOAP client with exact expectations: document/literal
envelopes, every result element in the ``http://developer.intuit.com/`` default
namespace, string arrays as ``<string>`` items in that same namespace, an empty string
written as an explicit empty element, and an integer where the WSDL says ``int``. Generic
SOAP stacks get these wrong, so the envelopes are written here by hand, with the values
escaped, and requests are parsed with DTDs and entities refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from xml.sax.saxutils import escape

from ._xmlsafe import XMLRejected, parse_xml

NS = "http://developer.intuit.com/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"

#: operation -> its parameters, in WSDL order (names exactly as QBWC sends them)
OPERATIONS: dict[str, tuple[str, ...]] = {
    "serverVersion": ("strVersion",),
    "clientVersion": ("strVersion",),
    "authenticate": ("strUserName", "strPassword"),
    "sendRequestXML": (
        "ticket",
        "strHCPResponse",
        "strCompanyFileName",
        "qbXMLCountry",
        "qbXMLMajorVers",
        "qbXMLMinorVers",
    ),
    "receiveResponseXML": ("ticket", "response", "hresult", "message"),
    "connectionError": ("ticket", "hresult", "message"),
    "getLastError": ("ticket",),
    "closeConnection": ("ticket",),
    "getInteractiveURL": ("wcTicket", "sessionID"),
    "interactiveDone": ("wcTicket",),
    "interactiveRejected": ("wcTicket", "reason"),
}


class SoapFault(Exception):
    """A request the service answers with a SOAP fault (HTTP 500).

    ``code`` is ``"Client"`` for a bad request and ``"Server"`` for a failure of ours.
    """

    def __init__(self, message: str, *, code: str = "Client") -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class SoapCall:
    """One parsed operation call: its name and its parameters (missing ones are "")."""

    operation: str
    params: dict[str, str]


def parse_request(body: bytes) -> SoapCall:
    """Parse a SOAP request body into the operation and its parameters.

    Dispatches on the local name of the first child of ``soap:Body`` (SOAPAction is
    advisory). Missing and empty parameters are both "".

    Raises:
        SoapFault: not XML, a DTD or entity, not a SOAP envelope, an unknown operation.
    """
    try:
        root = parse_xml(body)
    except XMLRejected as exc:
        raise SoapFault(f"request refused: {exc}") from None
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapFault("request is not a SOAP 1.1 envelope")
    soap_body = root.find(f"{{{SOAP_ENV}}}Body")
    if soap_body is None or len(soap_body) == 0:
        raise SoapFault("SOAP envelope has no operation in its Body")
    call = soap_body[0]
    ns, _, op = call.tag[1:].partition("}") if call.tag.startswith("{") else ("", "", call.tag)
    if op not in OPERATIONS:
        raise SoapFault(f"unknown operation {op!r}")
    if ns != NS:
        raise SoapFault(f"operation {op!r} is not in the {NS} namespace")
    params = {}
    for name in OPERATIONS[op]:
        el = call.find(f"{{{NS}}}{name}")
        params[name] = (el.text or "") if el is not None else ""
    return SoapCall(op, params)


def _result_xml(result: str | int | list[str] | tuple[str, ...]) -> str:
    if isinstance(result, bool):  # a bool is an int to Python, never to the WSDL
        raise TypeError("a Web Connector result is never a boolean")
    if isinstance(result, int):
        return str(result)
    if isinstance(result, (list, tuple)):
        # every item explicit, "" as <string></string>: QBWC counts the items
        return "".join(f"<string>{escape(str(x))}</string>" for x in result)
    return escape(result)


def render_response(operation: str, result: str | int | list[str] | tuple[str, ...]) -> bytes:
    """The response envelope of ``operation`` carrying ``result`` (UTF-8 bytes)."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>'
        f'<{operation}Response xmlns="{NS}">'
        f"<{operation}Result>{_result_xml(result)}</{operation}Result>"
        f"</{operation}Response></soap:Body></soap:Envelope>"
    ).encode()


def render_fault(message: str, *, code: str = "Server") -> bytes:
    """A SOAP 1.1 fault envelope (sent with HTTP 500)."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault>'
        f"<faultcode>soap:{escape(code)}</faultcode>"
        f"<faultstring>{escape(message)}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()


_WSDL_LOCATION = "http://localhost/qbwc"


def wsdl(location: str | None = None) -> bytes:
    """The service's WSDL, with its ``soap:address`` set to ``location`` when given."""
    text = resources.files("qbrecon.qbd").joinpath("QBWebConnectorSvc.wsdl").read_text("utf-8")
    if location:
        text = text.replace(f'location="{_WSDL_LOCATION}"', f'location="{escape(location, {chr(34): "&quot;"})}"')
    return text.encode("utf-8")
