"""CPU-bound kernels whose heavy lifting is C code that releases the GIL.

hashlib releases the GIL while hashing buffers over 2 KiB, zlib while it
deflates, and numpy while BLAS multiplies matrices; so threads can run these
in parallel. Input data is built once per process (cached) outside the
measured work, as a real program would already hold it in memory.
"""

from __future__ import annotations

import functools
import hashlib
import zlib as _zlib

from gilbench.workloads.registry import workload

_BLOCK = 1 << 20  # hash and compress in 1 MiB blocks


@functools.lru_cache(maxsize=8)
def _random_block(nbytes: int) -> bytes:
    # Deterministic, incompressible bytes: SHA-256 in counter mode.
    out = bytearray()
    counter = 0
    while len(out) < nbytes:
        out += hashlib.sha256(counter.to_bytes(8, "little")).digest()
        counter += 1
    return bytes(out[:nbytes])


@functools.lru_cache(maxsize=8)
def _text_block(nbytes: int) -> bytes:
    # Deterministic, compressible, text-like bytes (zlib gets ~3:1 on it).
    words = (b"the GIL lets one thread run Python bytecode at a time so threads help with "
             b"waiting and with native code that releases it while processes pay for start up "
             b"pickling and copies but run on every core").split()
    rand = _random_block(nbytes // 4 + 64)
    out = bytearray()
    i = 0
    while len(out) < nbytes:
        out += words[rand[i % len(rand)] % len(words)]
        out += b" " if rand[(i + 1) % len(rand)] % 9 else b"\n"
        i += 1
    return bytes(out[:nbytes])


@workload(
    kind="native",
    releases_gil=True,
    sizes={"smoke": 1, "quick": 4, "standard": 6, "full": 64},
    size_unit="MiB hashed",
)
def sha256(size: int, seed: int) -> str:
    """SHA-256 of `size` MiB in 1 MiB updates (hashlib releases the GIL)."""
    block = _random_block(_BLOCK)
    h = hashlib.sha256(seed.to_bytes(8, "little"))
    for _ in range(size):
        h.update(block)
    return h.hexdigest()


@workload(
    kind="native",
    releases_gil=True,
    sizes={"smoke": 8, "quick": 39, "standard": 67, "full": 640},
    size_unit="KiB compressed",
)
def zlib(size: int, seed: int) -> int:
    """zlib level-6 compression of `size` KiB of text (zlib releases the GIL)."""
    comp = _zlib.compressobj(6)
    crc = _zlib.crc32(comp.compress(seed.to_bytes(8, "little")))
    crc = _zlib.crc32(comp.compress(_text_block(size * 1024)), crc)
    return _zlib.crc32(comp.flush(), crc)


@functools.lru_cache(maxsize=8)
def _int_matrices(n: int, seed: int):
    import numpy as np

    # Small integers in float64: every product and sum is exact, so the result
    # is identical whatever order BLAS adds in.
    a = (np.arange(n * n, dtype=np.int64).reshape(n, n) * (seed + 3)) % 7
    b = (np.arange(n * n, dtype=np.int64).reshape(n, n).T * 5 + seed) % 11
    return a.astype(np.float64), b.astype(np.float64)


@workload(
    kind="native",
    releases_gil=True,
    sizes={"smoke": 64, "quick": 308, "standard": 359, "full": 800},
    size_unit="matrix side",
    cost_power=3,
    single_thread_blas=True,
    requires=("numpy",),
)
def numpy_matmul(size: int, seed: int) -> int:
    """numpy matrix product, BLAS held to one thread (BLAS releases the GIL)."""
    a, b = _int_matrices(size, seed % 4)
    c = a @ b
    c = c @ b
    return int(c.sum())
