"""HTTP downloader with timeouts, a size cap, a redirect limit and a URL check on every hop."""
from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urljoin

import requests

from docingest.errors import BadInput
from docingest.stages.fetch import check_url

USER_AGENT = "docingest/0.1 (+https://github.com/docingest/docingest)"
_PERMANENT_STATUSES = set(range(400, 500)) - {408, 425, 429}


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
    read_timeout: float = 20.0,
    allow_private: bool = False,
) -> Download:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    for _ in range(max_redirects + 1):
        check_url(url, allow_private=allow_private, resolve=resolve_host)
        try:
            response = session.get(url, stream=True, allow_redirects=False, timeout=(connect_timeout, read_timeout))
        except requests.exceptions.InvalidURL as error:
            raise BadInput(f"invalid URL: {error}") from error
        except requests.RequestException as error:
            raise TransientFetchError(f"could not reach {url}: {error.__class__.__name__}") from error
        with response:
            if response.is_redirect:
                url = urljoin(url, response.headers.get("Location", ""))
                continue
            _raise_for_status(url, response.status_code)
            return Download(url=url, data=_read_capped(response, max_bytes), content_type=response.headers.get("Content-Type"))
    raise BadInput(f"too many redirects (more than {max_redirects})")


def _raise_for_status(url: str, status: int) -> None:
    if status in _PERMANENT_STATUSES:
        raise BadInput(f"HTTP {status} for {url}")
    if status >= 400:
        raise TransientFetchError(f"HTTP {status} for {url}")


def _read_capped(response: requests.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise BadInput(f"too large: {declared} bytes declared, the limit is {max_bytes}")
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise BadInput(f"too large: more than {max_bytes} bytes")
            chunks.append(chunk)
    except requests.RequestException as error:
        raise TransientFetchError(f"download interrupted: {error.__class__.__name__}") from error
    return b"".join(chunks)
