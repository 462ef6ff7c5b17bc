"""What the fake platform servers share: a threaded HTTP server on 127.0.0.1 that
records every call and can be told to fail the next ones."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Call:
    method: str  # the API method or path: sendMessage, message/custom/send ...
    params: dict
    query: dict = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


def form(content_type: str, body: bytes) -> dict:
    """A request body as a dict, whatever encoding the client library chose."""
    if not body:
        return {}
    if content_type.startswith("application/json") or body.lstrip().startswith(b"{"):
        return json.loads(body)
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        return {
            part.get_param("name", header="content-disposition"): part.get_content()
            for part in message.iter_parts()
        }
    return dict(parse_qsl(body.decode()))


class FakeServer:
    """Subclasses answer `respond(method, params, query) -> (status, json body)`."""

    def __init__(self, latency: float = 0.0, port: int = 0):
        self.calls: list[Call] = []
        self.latency = latency
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Answer in one buffered write with Nagle off: otherwise Nagle's algorithm and
            # the client's delayed ACK add 40 ms to every call.
            disable_nagle_algorithm = True
            wbufsize = -1

            def log_message(self, *args):
                pass

            def _answer(self):
                url = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                params = form(self.headers.get("content-type", ""), body)
                query = dict(parse_qsl(url.query))
                if fake.latency:
                    time.sleep(fake.latency)
                status, answer = fake.dispatch(url.path, params, query)
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that hung up (a cancelled long poll) is not a failure

        self.server = Server(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def dispatch(self, path: str, params: dict, query: dict) -> tuple[int, dict]:
        raise NotImplementedError

    def record(self, method: str, params: dict, query: dict) -> None:
        with self.lock:
            self.calls.append(Call(method, params, query))

    def called(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]
