"""CPU-bound pure-Python kernels: they hold the GIL for their whole run.

Threads cannot speed these up on a GIL build of CPython; processes (and
subinterpreters with their own GIL, and free-threaded builds) can.
Sizes are chosen so that one task takes a few milliseconds (quick) to a few
tens of milliseconds (full) on a 2020s x86 core.
"""

from __future__ import annotations

from gilbench.workloads.registry import workload


def _fib(n: int) -> int:
    return n if n < 2 else _fib(n - 1) + _fib(n - 2)


@workload(
    kind="cpu",
    releases_gil=False,
    sizes={"smoke": 12, "quick": 22, "standard": 23, "full": 28},
    size_unit="n",
    cost_base=(1 + 5**0.5) / 2,  # fib(n) makes about phi**n calls
)
def fib(size: int, seed: int) -> int:
    """Naive recursive Fibonacci: function calls and integer arithmetic."""
    return _fib(size)


_SOLAR_MASS = 4 * 3.141592653589793**2
_DAYS_PER_YEAR = 365.24


def _bodies() -> list[list[float]]:
    # The Computer Language Benchmarks Game's Jovian planets and the Sun:
    # x, y, z, vx, vy, vz, mass.
    d, m = _DAYS_PER_YEAR, _SOLAR_MASS
    return [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, m],
        [4.84143144246472090e00, -1.16032004402742839e00, -1.03622044471123109e-01,
         1.66007664274403694e-03 * d, 7.69901118419740425e-03 * d,
         -6.90460016972063023e-05 * d, 9.54791938424326609e-04 * m],
        [8.34336671824457987e00, 4.12479856412430479e00, -4.03523417114321381e-01,
         -2.76742510726862411e-03 * d, 4.99852801234917238e-03 * d,
         2.30417297573763929e-05 * d, 2.85885980666130812e-04 * m],
        [1.28943695621391310e01, -1.51111514016986312e01, -2.23307578892655734e-01,
         2.96460137564761618e-03 * d, 2.37847173959480950e-03 * d,
         -2.96589568540237556e-05 * d, 4.36624404335156298e-05 * m],
        [1.53796971148509165e01, -2.59193146099879641e01, 1.79258772950371181e-01,
         2.68067772490389322e-03 * d, 1.62824170038242295e-03 * d,
         -9.51592254519715870e-05 * d, 5.15138902046611451e-05 * m],
    ]


@workload(
    kind="cpu",
    releases_gil=False,
    sizes={"smoke": 50, "quick": 482, "standard": 879, "full": 8_800},
    size_unit="steps",
)
def nbody(size: int, seed: int) -> float:
    """N-body simulation of the Jovian planets: float arithmetic in lists."""
    bodies = _bodies()
    pairs = [(bodies[i], bodies[j]) for i in range(5) for j in range(i + 1, 5)]
    dt = 0.01
    for _ in range(size):
        for b1, b2 in pairs:
            dx, dy, dz = b1[0] - b2[0], b1[1] - b2[1], b1[2] - b2[2]
            dist2 = dx * dx + dy * dy + dz * dz
            mag = dt / (dist2 * dist2**0.5)
            m1, m2 = b1[6] * mag, b2[6] * mag
            b1[3] -= dx * m2
            b1[4] -= dy * m2
            b1[5] -= dz * m2
            b2[3] += dx * m1
            b2[4] += dy * m1
            b2[5] += dz * m1
        for b in bodies:
            b[0] += dt * b[3]
            b[1] += dt * b[4]
            b[2] += dt * b[5]
    energy = 0.0
    for i, b in enumerate(bodies):
        energy += 0.5 * b[6] * (b[3] ** 2 + b[4] ** 2 + b[5] ** 2)
        for b2 in bodies[i + 1 :]:
            d = ((b[0] - b2[0]) ** 2 + (b[1] - b2[1]) ** 2 + (b[2] - b2[2]) ** 2) ** 0.5
            energy -= b[6] * b2[6] / d
    return energy


@workload(
    kind="cpu",
    releases_gil=False,
    sizes={"smoke": 400, "quick": 560, "standard": 1_467, "full": 16_000},
    size_unit="numbers tested",
)
def primes(size: int, seed: int) -> int:
    """Count primes by trial division: loops, modulo and comparisons."""
    # Each task tests a window of the same length, so every task costs about
    # the same; windows differ by seed so tasks are not copies of each other.
    start = 1_000_000 + seed * 2
    count = 0
    for n in range(start, start + size):
        if n % 2 == 0:
            continue
        d = 3
        prime = True
        while d * d <= n:
            if n % d == 0:
                prime = False
                break
            d += 2
        count += prime
    return count


@workload(
    kind="cpu",
    releases_gil=False,
    sizes={"smoke": 10, "quick": 19, "standard": 26, "full": 88},
    size_unit="pixels per side",
    cost_power=2,
)
def mandelbrot(size: int, seed: int) -> int:
    """Escape-time Mandelbrot set: complex arithmetic in nested loops."""
    max_iter = 100
    total = 0
    for py in range(size):
        ci = -1.2 + 2.4 * py / size
        for px in range(size):
            c = complex(-2.0 + 2.6 * px / size, ci)
            z = 0j
            n = 0
            while n < max_iter and z.real * z.real + z.imag * z.imag <= 4.0:
                z = z * z + c
                n += 1
            total += n
    return total
