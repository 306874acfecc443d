"""The web view: page, /reading JSON, MJPEG stream, client limit, disconnects, shutdown."""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from digitedge.edge_runtime.server import BOUNDARY, LiveServer, parse_host_port
from digitedge.errors import DigitEdgeError

TIMEOUT = 5


@pytest.fixture()
def server() -> Iterator[LiveServer]:
    srv = LiveServer("127.0.0.1", 0, max_clients=2).start()
    yield srv
    srv.close()


def _jpeg(value: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((24, 32, 3), value, np.uint8))
    assert ok
    return buf.tobytes()


def _get(srv: LiveServer, path: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(srv.url.rstrip("/") + path, timeout=TIMEOUT) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def _open_stream(srv: LiveServer) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=TIMEOUT)
    conn.request("GET", "/stream.mjpg")
    return conn.getresponse()


def _read_part(resp: http.client.HTTPResponse) -> bytes:
    """Read one multipart part and return its JPEG payload."""
    assert resp.readline().strip() == f"--{BOUNDARY}".encode()
    headers = {}
    while (line := resp.readline().strip()):
        key, _, value = line.decode().partition(":")
        headers[key.lower()] = value.strip()
    assert headers["content-type"] == "image/jpeg"
    payload = resp.read(int(headers["content-length"]))
    assert resp.read(2) == b"\r\n"
    return payload


def _wait(predicate, timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_parse_host_port_defaults_to_loopback() -> None:
    assert parse_host_port("8080") == ("127.0.0.1", 8080)
    assert parse_host_port(":9000") == ("127.0.0.1", 9000)
    assert parse_host_port("0.0.0.0:80") == ("0.0.0.0", 80)
    assert parse_host_port("[::1]:8080") == ("::1", 8080)
    with pytest.raises(DigitEdgeError, match="HOST:PORT"):
        parse_host_port("localhost:http")
    with pytest.raises(DigitEdgeError, match="0-65535"):
        parse_host_port("127.0.0.1:70000")


def test_page_reading_snapshot_and_404(server: LiveServer) -> None:
    status, ctype, body = _get(server, "/")
    assert status == 200 and ctype.startswith("text/html")
    assert b'<img src="/stream.mjpg"' in body and b'fetch("/reading"' in body
    assert _get(server, "/snapshot.jpg")[0] == 503  # nothing published yet
    server.publish(_jpeg(100), {"text": "42", "digits": [], "fps": 9.5, "frame": 7})
    status, ctype, body = _get(server, "/reading")
    assert status == 200 and ctype == "application/json"
    assert json.loads(body) == {"text": "42", "digits": [], "fps": 9.5, "frame": 7}
    status, ctype, body = _get(server, "/snapshot.jpg")
    assert status == 200 and ctype == "image/jpeg" and body == _jpeg(100)
    assert _get(server, "/nothing")[0] == 404


def test_stream_sends_the_newest_frame_and_limits_clients(server: LiveServer) -> None:
    server.publish(_jpeg(10), {})
    first = _open_stream(server)
    assert first.status == 200
    assert first.getheader("Content-Type") == f"multipart/x-mixed-replace; boundary={BOUNDARY}"
    assert _read_part(first) == _jpeg(10)
    # Frames published while the viewer is busy are not queued: it gets the newest one.
    # Holding the hub's (re-entrant) lock keeps the handler from running in between.
    with server._httpd.hub.cond:
        for v in (20, 30, 40):
            server.publish(_jpeg(v), {})
    assert _read_part(first) == _jpeg(40)
    second = _open_stream(server)
    assert second.status == 200
    assert _wait(lambda: server.streaming)
    third = _open_stream(server)  # max_clients=2
    assert third.status == 503
    third.close()
    # A viewer that vanishes frees its slot; the server carries on.
    first.close()
    second.fp.raw._sock.shutdown(socket.SHUT_RDWR)  # abrupt reset, not a polite close
    second.close()
    for v in range(5):  # writes to the dead sockets fail inside their handlers only
        server.publish(_jpeg(50 + v), {})
        time.sleep(0.02)
    server.publish(_jpeg(99), {})
    fourth = _open_stream(server)  # a new viewer starts with the current frame
    assert fourth.status == 200
    assert _read_part(fourth) == _jpeg(99)
    fourth.close()
    assert _get(server, "/reading")[0] == 200


def test_close_ends_streams_and_releases_the_port() -> None:
    srv = LiveServer("127.0.0.1", 0).start()
    port = srv.port
    srv.publish(_jpeg(1), {})
    stream = _open_stream(srv)
    _read_part(stream)
    srv.close()
    with socket.socket() as s:  # the port can be bound again at once
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
    stream.close()


def test_port_in_use_is_a_one_line_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(DigitEdgeError, match="cannot serve on 127.0.0.1"):
            LiveServer("127.0.0.1", s.getsockname()[1])
