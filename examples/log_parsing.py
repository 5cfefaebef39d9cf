"""CPU-bound user kernels: parse web-server access logs and count words, in pure Python.

What a user's own file for ``gilbench run --workloads-from`` looks like. Each kernel is a
module-level function of (size, seed) registered with ``@workload``; gilbench imports this
file in its own process and again in every worker that needs it (spawn, forkserver,
subinterpreters, Dask workers), so it must not start anything at import time.

    gilbench list --workloads-from examples/log_parsing.py
    gilbench run --profile quick --workloads-from examples/log_parsing.py --start-method fork,spawn
"""

from __future__ import annotations

import random
import re
from collections import Counter

from gilbench import workload

_PATHS = ("/", "/login", "/api/orders", "/api/items", "/static/app.js", "/static/site.css",
          "/search", "/cart", "/checkout", "/account")
_AGENTS = ("Mozilla/5.0 (X11; Linux x86_64)", "curl/8.5.0", "python-requests/2.32",
           "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4)")
_LINE = re.compile(r'(?P<ip>\S+) \S+ \S+ \[(?P<time>[^]]+)\] "(?P<method>\S+) (?P<path>\S+) '
                   r'\S+" (?P<status>\d{3}) (?P<bytes>\d+|-) "[^"]*" "(?P<agent>[^"]*)"')


def access_log(lines: int, seed: int) -> list[str]:
    """``lines`` lines of a combined-format access log, the same for the same seed."""
    rng = random.Random(seed)
    out = []
    for i in range(lines):
        status = rng.choices((200, 304, 404, 500), weights=(85, 8, 5, 2))[0]
        size = "-" if status == 304 else str(rng.randrange(200, 50_000))
        out.append(f'10.0.{rng.randrange(256)}.{rng.randrange(256)} - - '
                   f'[27/Nov/2026:10:{i // 60 % 60:02d}:{i % 60:02d} +0000] '
                   f'"{rng.choice(("GET", "GET", "GET", "POST"))} {rng.choice(_PATHS)} HTTP/1.1" '
                   f'{status} {size} "-" "{rng.choice(_AGENTS)}"')
    return out


# No sizes: gilbench calibrates one per profile on this machine (a task of about the
# profile's target time), from the cost model (linear in the number of lines).
@workload(kind="cpu", size_unit="log lines")
def parse_access_log(size: int, seed: int) -> tuple:
    """Parse `size` access-log lines with a regex; errors and bytes per path, top clients."""
    errors: Counter[str] = Counter()
    sent: Counter[str] = Counter()
    clients: Counter[str] = Counter()
    for line in access_log(size, seed):
        m = _LINE.match(line)
        if m is None:
            continue
        path, status = m["path"], int(m["status"])
        if status >= 400:
            errors[path] += 1
        if m["bytes"] != "-":
            sent[path] += int(m["bytes"])
        clients[m["ip"]] += 1
    return (tuple(sorted(errors.items())), tuple(sorted(sent.items())),
            tuple(clients.most_common(3)))


_WORDS = ("thread", "process", "lock", "queue", "pipe", "memory", "python", "worker", "task",
          "result", "pool", "core", "speed", "wait", "share", "copy", "start", "join")


# Sizes given: one per profile (smoke, quick, standard, full), as gilbench's own kernels do.
@workload(kind="cpu", size_unit="words",
          sizes={"smoke": 300, "quick": 4_000, "standard": 7_000, "full": 70_000})
def word_frequencies(size: int, seed: int) -> tuple:
    """Tokenise `size` words of text, normalise them and count the 5 most frequent."""
    rng = random.Random(seed)
    text = " ".join(rng.choice(_WORDS).capitalize() if rng.random() < 0.1 else
                    rng.choice(_WORDS) + rng.choice((",", ".", "", "", "")) for _ in range(size))
    counts: Counter[str] = Counter()
    for token in text.split():
        word = token.strip(".,").lower()
        if word:
            counts[word] += 1
    return tuple(sorted(counts.most_common(5)))
