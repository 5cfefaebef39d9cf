"""Mixed kernels: each task waits (on a server) and then does Python work on what came
back, as scrapers, API clients and ETL jobs do.

Which parallelism wins depends on the ratio of the two: threads overlap the waiting
but, with the GIL, run the Python work one at a time; processes run both in parallel
but pay to start and to send results back. The task size moves the ratio (``--sizes``).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import http.server
import json
import random
import socketserver
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gilbench.workloads.io import server_process
from gilbench.workloads.registry import async_variant, workload

# Each answer waits this long before it is sent: a remote service's response time (as
# socket_echo's). Without it a loopback request measures the CPU, not waiting.
HTTP_DELAY_S = 0.001
_CATEGORIES = ("books", "games", "garden", "music", "tools", "toys")
_CACHE_LIMIT = 4096


def document(records: int, seed: int) -> bytes:
    """The JSON document the server sends for (records, seed): always the same bytes."""
    rng = random.Random(seed * 1_000_003 + records)
    items = [{"id": seed * 100_000 + i,
              "category": _CATEGORIES[rng.randrange(len(_CATEGORIES))],
              "price": round(rng.uniform(1, 200), 2),
              "quantity": rng.randrange(1, 20),
              "tags": [f"t{rng.randrange(50)}" for _ in range(rng.randrange(1, 5))],
              "rating": rng.randrange(1, 6)} for i in range(records)]
    return json.dumps({"seed": seed, "items": items}).encode()


class _JsonHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection, closed after the answer

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        try:
            records, seed = int(query["records"][0]), int(query["seed"][0])
        except (KeyError, ValueError):
            self.send_error(400, "want /doc?records=N&seed=S")
            return
        server = self.server
        assert isinstance(server, _JsonServer)
        body = server.cache.get((records, seed))
        if body is None:  # built once: the server's own work stays out of later tasks
            body = document(records, seed)
            if len(server.cache) < _CACHE_LIMIT:
                server.cache[(records, seed)] = body
        time.sleep(server.delay_s)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: a benchmark's server prints nothing


class _JsonServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512  # see _EchoServer: a short backlog measures SYN retries
    delay_s = HTTP_DELAY_S
    cache: dict[tuple[int, int], bytes]


def _serve_json(conn: Any, delay_s: float) -> None:
    from gilbench.workloads.io import serve_until_told

    with _JsonServer(("127.0.0.1", 0), _JsonHandler) as server:
        server.delay_s, server.cache = delay_s, {}
        serve_until_told(conn, server)


@contextlib.contextmanager
def json_server(delay_s: float = HTTP_DELAY_S) -> Iterator[tuple[str, int]]:
    """A loopback HTTP server, in its own process, that answers ``GET
    /doc?records=N&seed=S`` with a JSON document after ``delay_s``."""
    with server_process(_serve_json, (delay_s,), "gilbench-http-server") as address:
        yield address


def summarise(doc: dict[str, Any]) -> tuple[Any, ...]:
    """The Python work on one document: validate, aggregate per category, rank tags."""
    totals: dict[str, list[float]] = {}
    tags: dict[str, int] = {}
    for item in doc["items"]:
        if not (isinstance(item.get("price"), float) and item["quantity"] > 0):
            continue
        value = item["price"] * item["quantity"]
        t = totals.setdefault(item["category"], [0, 0.0, 0.0])
        t[0] += 1
        t[1] += value
        t[2] = max(t[2], value)
        for tag in item["tags"]:
            tags[tag] = tags.get(tag, 0) + item["rating"]
    top = sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    return (doc["seed"], tuple((c, n, round(s, 2), m) for c, (n, s, m) in sorted(totals.items())),
            tuple(top))


@workload(
    kind="mixed",
    releases_gil=False,
    sizes={"smoke": 20, "quick": 100, "standard": 200, "full": 400},
    size_unit="records per document",
    setup=json_server,
)
def http_json(size: int, seed: int, address: tuple[str, int]) -> tuple[Any, ...]:
    """GET `size` JSON records from a loopback server (1 ms reply); sum them up in Python."""
    conn = http.client.HTTPConnection(*address, timeout=30)
    try:
        conn.request("GET", f"/doc?records={size}&seed={seed}")
        reply = conn.getresponse()
        body = reply.read()
        if reply.status != 200:
            raise ConnectionError(f"http_json server answered {reply.status}")
    finally:
        conn.close()
    return summarise(json.loads(body))


@async_variant("http_json")
async def http_json_async(size: int, seed: int, address: tuple[str, int]) -> tuple[Any, ...]:
    """The same request through asyncio streams; the Python work runs in the event loop."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(f"GET /doc?records={size}&seed={seed} HTTP/1.0\r\n"
                     f"Host: {address[0]}\r\n\r\n".encode())
        await writer.drain()
        raw = await reader.read()  # HTTP/1.0: the server closes after the answer
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1] if head.startswith(b"HTTP/") else b"?"
    if status != b"200":
        raise ConnectionError(f"http_json server answered {status.decode(errors='replace')}")
    return summarise(json.loads(body))
