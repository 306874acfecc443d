"""A tiny web view for headless devices: page, MJPEG stream and JSON reading (stdlib only).

The live loop calls `publish` once per frame with one JPEG (encoded once, whatever the number
of viewers); stream clients wait for the next frame, so a slow viewer skips frames instead
of queueing them. At most `max_clients` streams run at once; extra ones get 503. A viewer
that disconnects only ends its own handler thread.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from digitedge.errors import DigitEdgeError

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
BOUNDARY = "digitedgeframe"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>digitedge live</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body { font-family: sans-serif; background: #111; color: #eee; margin: 1em; }
 #reading { font-size: 3em; font-weight: bold; color: #4d4; min-height: 1.2em; }
 #stats { color: #aaa; } img { max-width: 100%; border: 1px solid #444; }
 .lost { color: #e44 !important; }
</style></head>
<body>
<h1>digitedge live</h1>
<div id="reading">-</div>
<div id="stats">waiting for frames...</div>
<p><img src="/stream.mjpg" alt="live annotated stream"></p>
<script>
async function poll() {
  try {
    const r = await (await fetch("/reading", {cache: "no-store"})).json();
    const el = document.getElementById("reading");
    el.textContent = r.text === null ? "-" : (r.text === "" ? "(no digits)" : r.text);
    el.className = r.camera_ok ? "" : "lost";
    document.getElementById("stats").textContent =
      r.fps.toFixed(1) + " FPS, latency " + r.latency_ms.toFixed(0) + " ms, frame " + r.frame
      + ", " + r.camera;
  } catch (e) {
    document.getElementById("stats").textContent = "no connection to digitedge";
  }
}
poll(); setInterval(poll, 500);
</script>
</body></html>
"""


def parse_host_port(text: str) -> tuple[str, int]:
    """'HOST:PORT', ':PORT' or 'PORT' -> (host, port); the host defaults to loopback only."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "", text
    host = host.strip("[]") or DEFAULT_HOST
    try:
        port = int(port_text)
    except ValueError:
        raise DigitEdgeError(f"--serve wants HOST:PORT such as 127.0.0.1:8080, got {text!r}") \
            from None
    if not 0 <= port <= 65535:
        raise DigitEdgeError(f"--serve port must be 0-65535, got {port}")
    return host, port


class _Hub:
    """The shared state between the live loop and the handler threads."""

    def __init__(self, max_clients: int) -> None:
        self.cond = threading.Condition()
        self.jpeg: bytes | None = None
        self.seq = 0
        self.reading: dict[str, Any] = {"text": None, "digits": [], "fps": 0.0, "frame": -1,
                                         "latency_ms": 0.0, "camera": "starting",
                                         "camera_ok": True}
        self.slots = threading.BoundedSemaphore(max_clients)
        self.streams = 0
        self.stopping = False


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # seconds a silent or stalled client may hold a handler thread

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        path = self.path.split("?", 1)[0]
        try:
            if path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, PAGE.encode(), "text/html; charset=utf-8")
            elif path == "/reading":
                with self.server.hub.cond:
                    body = json.dumps(self.server.hub.reading).encode()
                self._send(HTTPStatus.OK, body, "application/json")
            elif path == "/snapshot.jpg":
                jpeg = self.server.hub.jpeg
                if jpeg is None:
                    self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"no frame yet\n", "text/plain")
                else:
                    self._send(HTTPStatus.OK, jpeg, "image/jpeg")
            elif path == "/stream.mjpg":
                self._stream()
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            log.debug("client %s went away", self.address_string())

    def _stream(self) -> None:
        hub = self.server.hub
        if not hub.slots.acquire(blocking=False):
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"too many viewers\n", "text/plain")
            return
        try:
            with hub.cond:
                hub.streams += 1
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            seen = 0  # hub.seq is 0 until the first frame
            while True:
                with hub.cond:
                    # Wait for a frame newer than the last one sent: never a backlog.
                    if not hub.stopping and hub.seq == seen:
                        hub.cond.wait(timeout=1.0)
                    if hub.stopping:
                        return
                    if hub.jpeg is None or hub.seq == seen:
                        continue
                    jpeg, seen = hub.jpeg, hub.seq
                self.wfile.write(
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(jpeg)}\r\n\r\n".encode() + jpeg + b"\r\n")
                self.wfile.flush()
        finally:
            with hub.cond:
                hub.streams -= 1
            hub.slots.release()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck viewer must never keep the process alive
    hub: _Hub


class LiveServer:
    """Serve the live view on (host, port) from a background thread.

    Args:
        host, port: where to listen; port 0 picks a free port (see `.port`).
        max_clients: concurrent /stream.mjpg viewers; more get 503.

    Raises:
        DigitEdgeError: the address cannot be bound (in use, not local, no permission).
    """

    def __init__(self, host: str = DEFAULT_HOST, port: int = 8080, max_clients: int = 4) -> None:
        try:
            self._httpd = _Server((host, port), _Handler)
        except OSError as exc:
            raise DigitEdgeError(f"cannot serve on {host}:{port}: {exc.strerror or exc} "
                                 "(pick another port with --serve HOST:PORT)") from None
        self._httpd.hub = _Hub(max_clients)
        self.host = host
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.2}, name="live-http",
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    @property
    def streaming(self) -> bool:
        """True when a viewer is on the MJPEG stream (so frames are worth encoding)."""
        hub = self._httpd.hub
        with hub.cond:
            return hub.streams > 0

    def publish(self, jpeg: bytes | None, reading: dict[str, Any]) -> None:
        """Hand the latest annotated frame (JPEG bytes, or None to keep the last) and state."""
        hub = self._httpd.hub
        with hub.cond:
            if jpeg is not None:
                hub.jpeg = jpeg
                hub.seq += 1
            hub.reading = reading
            hub.cond.notify_all()

    def close(self) -> None:
        """Stop serving, end the streams and release the port."""
        hub = self._httpd.hub
        with hub.cond:
            hub.stopping = True
            hub.cond.notify_all()
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(5.0)
        self._httpd.server_close()
