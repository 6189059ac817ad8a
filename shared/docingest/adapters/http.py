"""HTTP downloader: a URL check and a pinned address on every hop, a size cap and a wall-clock deadline.

The host is resolved once per hop, every address is checked, and the connection goes to a checked
address (TLS still verifies the host name), so a DNS answer that changes between the check and the
connection (DNS rebinding) cannot reach an internal address.
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from urllib3.exceptions import HTTPError, LocationParseError, ReadTimeoutError

from docingest.errors import BadInput
from docingest.stages.fetch import check_url

USER_AGENT = "docingest/0.1 (+https://github.com/docingest/docingest)"
_PERMANENT_STATUSES = set(range(400, 500)) - {408, 425, 429}
_REDIRECTS = {301, 302, 303, 307, 308}
_CHUNK = 64 * 1024


class TransientFetchError(RuntimeError):
    """Worth retrying later: timeouts, refused connections, 5xx, 429."""


@dataclass(frozen=True)
class Download:
    url: str  # final URL after redirects
    data: bytes
    content_type: str | None


def resolve_host(host: str) -> list[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except socket.gaierror as error:
        raise BadInput(f"unreachable URL: host {host} does not resolve ({error.strerror})") from error


def download(
    url: str,
    *,
    max_bytes: int,
    max_redirects: int = 5,
    connect_timeout: float = 5.0,
    read_timeout: float = 10.0,
    total_timeout: float = 30.0,
    allow_private: bool = False,
    resolve=resolve_host,
) -> Download:
    """The body of ``url`` after at most ``max_redirects`` redirects, within ``total_timeout`` seconds in all.

    Raises BadInput for what retrying cannot fix (refused URL, 4xx, too large, too slow, redirect loop)
    and TransientFetchError for what it may (timeouts, refused connections, 5xx, 429).
    """
    deadline = time.monotonic() + total_timeout
    for _ in range(max_redirects + 1):
        url = check_url(url, allow_private=True)  # scheme, host and length; addresses are checked below
        parts = urlsplit(url)
        addresses = resolve(parts.hostname)
        check_url(url, allow_private=allow_private, resolve=lambda host: addresses)
        response = _get(url, addresses[0], connect_timeout, read_timeout, deadline)
        try:
            if response.status in _REDIRECTS and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])
                continue
            _raise_for_status(url, response.status)
            return Download(url=url, data=_read_capped(response, max_bytes, read_timeout, deadline, total_timeout),
                            content_type=response.headers.get("Content-Type"))
        finally:
            response.release_conn()
    raise BadInput(f"too many redirects (more than {max_redirects})")


def _get(url: str, address: str, connect_timeout: float, read_timeout: float, deadline: float) -> urllib3.BaseHTTPResponse:
    """GET ``url`` from ``address``, with the URL's host name in the Host header and for TLS."""
    parts = urlsplit(url)
    https = parts.scheme.lower() == "https"
    left = _time_left(deadline, url)
    timeout = urllib3.Timeout(connect=min(connect_timeout, left), read=min(read_timeout, left))
    options = {"server_hostname": parts.hostname, "assert_hostname": parts.hostname, "cert_reqs": "CERT_REQUIRED",
               "ca_certs": certifi.where()} if https else {}
    pool_class = urllib3.HTTPSConnectionPool if https else urllib3.HTTPConnectionPool
    pool = pool_class(address, parts.port or (443 if https else 80), timeout=timeout, retries=False, maxsize=1, **options)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Host": parts.netloc.rsplit("@", 1)[-1], "User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    try:
        return pool.urlopen("GET", path, headers=headers, redirect=False, retries=False, preload_content=False,
                            assert_same_host=False)
    except LocationParseError as error:
        raise BadInput(f"invalid URL: {error}") from error
    except HTTPError as error:
        raise TransientFetchError(f"could not reach {url}: {error.__class__.__name__}") from error


def _time_left(deadline: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise BadInput(f"too slow: {url} did not download within the time limit")
    return left


def _raise_for_status(url: str, status: int) -> None:
    if status in _PERMANENT_STATUSES:
        raise BadInput(f"HTTP {status} for {url}")
    if status >= 400:
        raise TransientFetchError(f"HTTP {status} for {url}")


def _read_capped(response: urllib3.BaseHTTPResponse, max_bytes: int, read_timeout: float, deadline: float,
                 total_timeout: float) -> bytes:
    """The decoded body, at most ``max_bytes`` of it, before ``deadline`` (each read waits at most what is left)."""
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise BadInput(f"too large: {declared} bytes declared, the limit is {max_bytes}")
    chunks, size = [], 0
    sock = getattr(getattr(response, "connection", None), "sock", None)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BadInput(f"too slow: the download did not finish within {total_timeout:.0f} s ({size} bytes received)")
            if sock is not None:
                sock.settimeout(min(read_timeout, left))
            chunk = response.read1(_CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > max_bytes:
                raise BadInput(f"too large: more than {max_bytes} bytes")
            chunks.append(chunk)
    except (ReadTimeoutError, TimeoutError, socket.timeout) as error:
        if time.monotonic() >= deadline:
            raise BadInput(f"too slow: the download did not finish within {total_timeout:.0f} s ({size} bytes received)") from error
        raise TransientFetchError(f"download stalled: no data for {read_timeout:.0f} s") from error
    except HTTPError as error:
        raise TransientFetchError(f"download interrupted: {error.__class__.__name__}") from error
