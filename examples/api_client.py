"""A mixed user kernel: call a (local stand-in for a remote) HTTP API, then work on the
answer in Python -- what API clients, scrapers and ETL jobs do all day.

Each task fetches one page of orders from an API that answers after 5 ms (a service on
the same network), checks every record and totals them per customer. Waiting overlaps
under threads; the Python work does not (under the GIL). Which wins depends on the ratio,
which the page size sets: ``--sizes`` shows where the answer flips.

The API server is started by the kernel's ``setup`` (once, in gilbench's process, around
all of the kernel's cells) in its own process, so that its work does not compete with the
threads being measured for the GIL; what ``setup`` yields (the server's address) is passed
to every task as ``resource``.

    gilbench run --profile quick --workloads-from examples/api_client.py
    gilbench run --profile quick --workloads-from examples/api_client.py --sizes 0.1,1,10
"""

from __future__ import annotations

import contextlib
import functools
import json
import multiprocessing
import random
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gilbench import workload

API_LATENCY_S = 0.005


@functools.lru_cache(maxsize=4096)
def _page(page: int, per_page: int) -> bytes:
    """One page of orders, the same for the same page (built once: the stand-in service's
    own work stays out of the client's measurement)."""
    rng = random.Random(page)
    orders = [{"order": page * per_page + i, "customer": f"c{rng.randrange(40)}",
               "lines": [{"sku": f"s{rng.randrange(500)}", "qty": rng.randrange(1, 5),
                          "price": round(rng.uniform(2, 90), 2)}
                         for _ in range(rng.randrange(1, 6))],
               "currency": rng.choice(("EUR", "EUR", "USD"))} for i in range(per_page)]
    return json.dumps({"page": page, "orders": orders}).encode()


class _OrdersAPI(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        # /orders?page=P&per_page=N
        query = dict(p.split("=", 1) for p in self.path.partition("?")[2].split("&") if "=" in p)
        body = _page(int(query.get("page", 0)), int(query.get("per_page", 10)))
        time.sleep(API_LATENCY_S)  # the service's response time
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _serve(conn: Any) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _OrdersAPI) as server:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        conn.send(server.server_address[1])
        with contextlib.suppress(EOFError):
            conn.recv()  # until gilbench is done with the kernel (or gone)
        server.shutdown()


@contextlib.contextmanager
def orders_api() -> Iterator[str]:
    """Start the API in its own process; yield its base URL; stop it."""
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(theirs,), daemon=True)
    proc.start()
    try:
        yield f"http://127.0.0.1:{ours.recv()}"
    finally:
        ours.close()  # the server's recv() ends: it shuts down
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()


EUR_PER_USD = 0.92


@workload(kind="mixed", size_unit="orders per page", setup=orders_api,
          sizes={"smoke": 10, "quick": 200, "standard": 300, "full": 1000})
def order_totals(size: int, seed: int, api: str) -> tuple:
    """GET page `seed` of `size` orders from a local API (5 ms reply); total them per customer."""
    with urllib.request.urlopen(f"{api}/orders?page={seed}&per_page={size}", timeout=30) as r:
        page = json.load(r)
    totals: dict[str, float] = {}
    for order in page["orders"]:
        amount = sum(line["qty"] * line["price"] for line in order["lines"] if line["qty"] > 0)
        if order["currency"] == "USD":
            amount *= EUR_PER_USD
        totals[order["customer"]] = totals.get(order["customer"], 0.0) + amount
    return tuple(sorted((c, round(v, 2)) for c, v in totals.items()))
