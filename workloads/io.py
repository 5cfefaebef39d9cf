"""IO-bound kernels: they spend their time waiting with the GIL released.

Threads speed these up almost linearly with the number of waiters, until the
CPU work around the waits (or the device) becomes the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import shutil
import signal
import socket
import socketserver
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator

from gilbench.workloads.registry import async_variant, workload

# ---------------------------------------------------------------- sleep


@workload(
    kind="io",
    releases_gil=True,
    sizes={"smoke": 2, "quick": 3, "standard": 4, "full": 40},
    size_unit="ms asleep",
)
def sleep(size: int, seed: int) -> int:
    """time.sleep for `size` ms: pure waiting, the ideal IO-bound task."""
    time.sleep(size / 1000)
    return seed


@async_variant("sleep")
async def sleep_async(size: int, seed: int) -> int:
    """asyncio.sleep: the event loop waits for many at once in one thread."""
    await asyncio.sleep(size / 1000)
    return seed


# ---------------------------------------------------------------- file_rw


@contextlib.contextmanager
def temporary_folder() -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="gilbench-file_rw-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


_CHUNK = 64 * 1024


@workload(
    kind="io",
    releases_gil=True,
    sizes={"smoke": 64, "quick": 757, "standard": 2819, "full": 32768},
    size_unit="KiB written and read",
    setup=temporary_folder,
)
def file_rw(size: int, seed: int, folder: str) -> int:
    """Write `size` KiB to a file, fsync it, read it back, delete it."""
    chunk = bytes((seed + i) % 251 for i in range(256)) * (_CHUNK // 256)
    path = os.path.join(folder, f"task-{seed}-{os.getpid()}-{threading.get_ident()}.bin")
    try:
        with open(path, "wb", buffering=0) as f:
            for _ in range(size * 1024 // _CHUNK):
                f.write(chunk)
            os.fsync(f.fileno())
        crc = 0
        with open(path, "rb", buffering=0) as f:
            while data := f.read(_CHUNK):
                crc = zlib.crc32(data, crc)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    return crc


@async_variant("file_rw")
async def file_rw_async(size: int, seed: int, folder: str) -> int:
    """asyncio has no asynchronous file API: files go through asyncio.to_thread
    (the loop's default thread pool), as the asyncio documentation advises."""
    return await asyncio.to_thread(file_rw, size, seed, folder)


# ---------------------------------------------------------------- socket_echo

# The echo server answers each message after this delay, standing in for a
# remote service's response time. Without it a loopback round trip is a few
# microseconds of system calls, which measures the CPU, not waiting on IO.
ECHO_DELAY_S = 0.001
_MESSAGE = 64  # bytes per message


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        part = sock.recv(n - len(buf))
        if not part:
            raise ConnectionError("echo server closed the connection")
        buf += part
    return bytes(buf)


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            try:
                data = _recv_exact(sock, _MESSAGE)
            except (ConnectionError, OSError):
                return
            assert isinstance(self.server, _EchoServer)
            time.sleep(self.server.delay_s)
            sock.sendall(data)


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: with 8 or more clients
    # connecting at once the kernel drops SYNs and each retry waits a whole
    # second, which measured TCP's retransmission timer instead of IO.
    request_queue_size = 512
    delay_s = 0.0  # how long each reply waits: a remote service's work


def serve_until_told(conn, server: socketserver.TCPServer) -> None:
    """In a server process: report the port, serve until told, or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    parent = os.getppid()
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    conn.send(server.server_address[1])
    # Stop when the parent says so, closes the pipe, or dies.
    while os.getppid() == parent:
        if conn.poll(0.2):
            with contextlib.suppress(EOFError):
                conn.recv()
            break
    server.shutdown()


def _serve_echo(conn, delay_s: float) -> None:
    """Echo server process."""
    with _EchoServer(("127.0.0.1", 0), _EchoHandler) as server:
        server.delay_s = delay_s
        serve_until_told(conn, server)


@contextlib.contextmanager
def server_process(target, args: tuple, name: str) -> Iterator[tuple[str, int]]:
    """Start a loopback server in its own process (``target(conn, *args)`` sends its
    port on ``conn``, then serves until told to stop); stop it on exit."""
    # spawn: safe whatever threads this process already runs.
    ctx = multiprocessing.get_context("spawn")
    parent_conn, child_conn = ctx.Pipe()
    proc = ctx.Process(target=target, args=(child_conn, *args), daemon=True, name=name)
    proc.start()
    child_conn.close()
    try:
        if not parent_conn.poll(30):
            raise RuntimeError(f"the loopback server ({name}) did not start within 30 s")
        port = parent_conn.recv()
        yield ("127.0.0.1", port)
    finally:
        with contextlib.suppress(OSError):
            parent_conn.send("stop")
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
        parent_conn.close()


@contextlib.contextmanager
def echo_server(delay_s: float = ECHO_DELAY_S) -> Iterator[tuple[str, int]]:
    """Start a loopback echo server in its own process; stop it on exit."""
    with server_process(_serve_echo, (delay_s,), "gilbench-echo-server") as address:
        yield address


@workload(
    kind="io",
    releases_gil=True,
    sizes={"smoke": 2, "quick": 2, "standard": 3, "full": 32},
    size_unit="round trips",
    setup=echo_server,
)
def socket_echo(size: int, seed: int, address: tuple[str, int]) -> int:
    """`size` round trips of 64 bytes to a loopback echo server (1 ms reply)."""
    payload = (seed.to_bytes(8, "little") * (_MESSAGE // 8))
    crc = 0
    with socket.create_connection(address, timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(size):
            sock.sendall(payload)
            reply = _recv_exact(sock, _MESSAGE)
            crc = zlib.crc32(reply, crc)
    return crc


@async_variant("socket_echo")
async def socket_echo_async(size: int, seed: int, address: tuple[str, int]) -> int:
    """The same round trips through asyncio streams."""
    payload = (seed.to_bytes(8, "little") * (_MESSAGE // 8))
    crc = 0
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(size):
            writer.write(payload)
            await writer.drain()
            crc = zlib.crc32(await reader.readexactly(_MESSAGE), crc)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return crc
