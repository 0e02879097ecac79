"""Network address checks shared by the QuickBooks Online client and the Web Connector."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1).

    Example:
        >>> is_loopback_host("127.0.0.2"), is_loopback_host("::1"), is_loopback_host("10.0.0.1")
        (True, True, False)
    """
    host = (host or "").strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """True when ``url`` points at this machine."""
    return is_loopback_host(urlsplit(url).hostname or "")
