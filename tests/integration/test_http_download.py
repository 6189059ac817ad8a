"""The downloader against a small HTTP server on loopback."""
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from docingest.adapters.http import TransientFetchError, download
from docingest.errors import BadInput

PAGE = "<html><head><meta charset='windows-1251'></head><body><p>Новости дня</p></body></html>".encode("cp1251")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        routes = {
            "/page": lambda: self._send(200, PAGE, "text/html"),
            "/big": lambda: self._send(200, b"x" * 5000, "text/plain"),
            "/missing": lambda: self._send(404, b"no", "text/plain"),
            "/broken": lambda: self._send(503, b"later", "text/plain"),
            "/loop": lambda: self._redirect("/loop"),
            "/hop": lambda: self._redirect("/page"),
            "/to-ftp": lambda: self._redirect("ftp://example.com/x"),
            "/host": lambda: self._send(200, self.headers["Host"].encode(), "text/plain"),
            "/trickle": self._trickle,
        }
        routes.get(self.path, lambda: self._send(404, b"", "text/plain"))()

    def _send(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self):  # a body of 40 bytes at 10 bytes a second
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "40")
        self.end_headers()
        for _ in range(40):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(0.1)

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def fetch(url, **limits):
    return download(url, **{"max_bytes": 1000, "max_redirects": 3, "connect_timeout": 2, "read_timeout": 2, "allow_private": True, **limits})


def test_downloads_a_page_with_its_content_type(server):
    result = fetch(f"{server}/page")
    assert result.data == PAGE and result.content_type == "text/html"


def test_follows_a_redirect(server):
    assert fetch(f"{server}/hop").url == f"{server}/page"


def test_redirect_loops_stop_at_the_limit(server):
    with pytest.raises(BadInput, match="too many redirects"):
        fetch(f"{server}/loop")


def test_redirect_to_another_scheme_is_refused(server):
    with pytest.raises(BadInput, match="scheme"):
        fetch(f"{server}/to-ftp")


def test_size_cap(server):
    with pytest.raises(BadInput, match="too large"):
        fetch(f"{server}/big")


def test_client_errors_are_permanent_and_server_errors_transient(server):
    with pytest.raises(BadInput, match="HTTP 404"):
        fetch(f"{server}/missing")
    with pytest.raises(TransientFetchError, match="HTTP 503"):
        fetch(f"{server}/broken")


def test_loopback_is_refused_unless_allowed(server):
    with pytest.raises(BadInput, match="internal address"):
        fetch(f"{server}/page", allow_private=False)


def test_unreachable_port_is_transient():
    with pytest.raises(TransientFetchError):
        fetch("http://127.0.0.1:9/", connect_timeout=0.5)


def test_a_slow_body_ends_at_the_wall_clock_limit(server):
    with pytest.raises(BadInput, match="too slow: the download did not finish within 1 s"):
        fetch(f"{server}/trickle", total_timeout=1, read_timeout=2)


def test_the_connection_goes_to_the_checked_address(server, monkeypatch):
    """DNS rebinding: the name is resolved once per hop and that address is the one connected to."""
    port = server.rsplit(":", 1)[1]
    lookups = []
    real_getaddrinfo = socket.getaddrinfo

    def no_second_lookup(host, *args, **kwargs):
        assert host != "news.test", "the host name was resolved again to connect"
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", no_second_lookup)
    result = fetch(f"http://news.test:{port}/host", resolve=lambda host: lookups.append(host) or ["127.0.0.1"])
    assert result.data == f"news.test:{port}".encode() and lookups == ["news.test"]


def test_a_name_that_resolves_to_an_internal_address_is_refused_before_connecting():
    def resolve(host):
        return ["10.1.2.3"]

    with pytest.raises(BadInput, match="internal address"):
        download("http://rebind.test/", max_bytes=100, resolve=resolve)
