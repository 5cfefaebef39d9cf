"""The machine and interpreter record, taken once per run.

One ``collect_machine()`` made of small ``collect_*`` helpers (pyperf's
pattern), plus ``usable_cpus()``: the CPU count that honours the affinity mask
and a cgroup CPU quota (a container limited to 2 CPUs on a 64-core host can
use 2, and that is the ceiling every speedup chart marks).
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import platform
import socket
import sys
import sysconfig
from pathlib import Path
from typing import Any

from gilbench.bench.interprecord import InterpreterRecord
from gilbench.bench.results import usable_cpus_of

CGROUP_ROOT = Path("/sys/fs/cgroup")


def gil_enabled() -> bool:
    """Whether the GIL is on in *this* process right now (3.13+ can say no)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def free_threaded_build() -> bool:
    """Whether this interpreter was built with ``--disable-gil`` (PEP 703)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def jit_state() -> bool | None:
    """Whether CPython's JIT compiles this process's hot code (3.14+ builds with the JIT
    available turn it on with PYTHON_JIT=1), False where it is available and off, None
    where the interpreter has none to say."""
    jit = getattr(sys, "_jit", None)
    if jit is None or not jit.is_available():
        return None
    return bool(jit.is_enabled())


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> float | None:
    """CPUs allowed by a cgroup v2 or v1 quota, or None when unlimited."""
    v2 = root / "cpu.max"
    try:
        quota, period = v2.read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota_us <= 0 or period_us <= 0 else quota_us / period_us


def affinity_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def usable_cpus(cgroup_root: Path = CGROUP_ROOT) -> int:
    """CPUs this process can keep busy: affinity mask, then cgroup quota."""
    count = affinity_cpus()
    limit = cgroup_cpu_limit(cgroup_root)
    if limit is not None:
        count = min(count, max(1, math.ceil(limit)))
    return max(1, count)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "cpu model"):
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _psutil() -> Any:
    """psutil, or None in an interpreter without it (a ``--python`` run's)."""
    try:
        import psutil
    except ImportError:
        return None
    return psutil


def collect_cpu() -> dict[str, Any]:
    psutil = _psutil()
    freq = None
    try:
        f = psutil.cpu_freq() if psutil else None
        freq = round(f.max or f.current, 1) if f else None
    except (OSError, NotImplementedError, AttributeError):
        pass
    governor = None
    with contextlib.suppress(OSError):
        governor = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor").read_text().strip()
    load = None
    if hasattr(os, "getloadavg"):
        load = [round(x, 2) for x in os.getloadavg()]
    return {
        "cpu_model": cpu_model(),
        "machine": platform.machine(),
        "logical_cpus": os.cpu_count() or 1,
        "usable_cpus": usable_cpus(),
        "affinity_cpus": affinity_cpus(),
        "cgroup_cpu_limit": cgroup_cpu_limit(),
        "physical_cores": psutil.cpu_count(logical=False) if psutil else None,
        "cpu_freq_mhz": freq,
        "cpu_governor": governor,
        "load_average": load,
    }


def this_interpreter() -> InterpreterRecord:
    """The interpreter running this code, as the typed record everything reads."""
    return InterpreterRecord(
        version=platform.python_version(), implementation=platform.python_implementation(),
        free_threaded_build=free_threaded_build(), gil_enabled=gil_enabled(),
        jit_enabled=jit_state(),
        default_start_method=multiprocessing.get_start_method(allow_none=False),
        executable=sys.executable)


def collect_python() -> dict[str, Any]:
    """The machine record's interpreter fields (``InterpreterRecord.machine_fields``), and
    the settings around it."""
    return {
        **this_interpreter().machine_fields(),
        "python_gil_env": os.environ.get("PYTHON_GIL"),
        "python_jit_env": os.environ.get("PYTHON_JIT"),
        "switch_interval_s": sys.getswitchinterval(),
        "start_methods": multiprocessing.get_all_start_methods(),
    }


def collect_libraries() -> dict[str, Any]:
    libs: dict[str, Any] = {}
    try:
        import numpy

        libs["numpy_version"] = numpy.__version__
    except ImportError:
        libs["numpy_version"] = None
    try:
        from threadpoolctl import threadpool_info

        libs["blas"] = [
            {k: info.get(k) for k in ("internal_api", "version", "num_threads", "threading_layer")}
            for info in threadpool_info()
            if info.get("user_api") == "blas"
        ]
    except ImportError:
        libs["blas"] = []
    return libs


def collect_machine() -> dict[str, Any]:
    """Everything a reader needs to interpret (and compare) a run."""
    from gilbench.bench import __version__

    record: dict[str, Any] = {
        "hostname": socket.gethostname(),
        "os": platform.platform(),
        "memory_bytes": _psutil().virtual_memory().total if _psutil() else None,
    }
    record.update(collect_cpu())
    record.update(collect_python())
    record.update(collect_libraries())
    record["gilbench_version"] = __version__
    return record


# ------------------------------------------------------------ noise


BUSY_LOAD_PER_CPU = 0.5  # a 1-minute load average above this per usable CPU: others are busy


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def noise_checks(record: dict[str, Any]) -> list[dict[str, Any]]:
    """What, before a run, says its numbers will be noisy: each check with its
    value, ``ok`` (True, False, or None where the machine does not say) and
    what to do about it."""
    checks: list[dict[str, Any]] = []
    usable = max(1, usable_cpus_of(record))
    load = record.get("load_average")
    if load:
        # Information only: the minute before a run often holds its own install or
        # build. What decides is what other programs use during the run (OthersCpu).
        busy = load[0] > BUSY_LOAD_PER_CPU * usable
        checks.append({
            "check": "load average before the run", "value": f"{load[0]:.2f} over the last "
            f"minute on {usable} usable CPUs", "ok": None,
            "advice": "the last minute was busy (an install just now counts too); other "
                      "programs' CPU use during the run is what decides" if busy else ""})
    governor = record.get("cpu_governor")
    if governor is None:
        checks.append({"check": "CPU frequency governor", "value": "not exposed (a virtual "
                       "machine or container decides the clock speed)", "ok": None,
                       "advice": ""})
    else:
        fixed = governor == "performance"
        checks.append({"check": "CPU frequency governor", "value": governor, "ok": fixed,
                       "advice": "" if fixed else "the clock speed follows the load: "
                       "sudo cpupower frequency-set -g performance gives steadier numbers"})
    no_turbo = _read("/sys/devices/system/cpu/intel_pstate/no_turbo")
    boost = _read("/sys/devices/system/cpu/cpufreq/boost")
    if no_turbo is not None or boost is not None:
        on = no_turbo == "0" or boost == "1"
        checks.append({"check": "turbo boost", "value": "on" if on else "off", "ok": not on,
                       "advice": "the clock speed rises while few cores are busy, which "
                       "flatters serial and 1-worker runs" if on else ""})
    return checks


class OthersCpu:
    """How much of the machine's CPU time other programs used from now on: the
    machine's busy time less this process's and its children's (reaped or alive)."""

    SHORTEST_S = 5.0  # CPU-seconds of the whole machine (2.5 s on 2 CPUs)

    def __init__(self) -> None:
        self.start = self._reading()

    @staticmethod
    def _reading() -> tuple[float, float, float] | None:
        psutil = _psutil()
        if psutil is None:
            return None
        t = psutil.cpu_times()
        total = float(sum(t))
        idle = t.idle + getattr(t, "iowait", 0.0) + getattr(t, "steal", 0.0)
        me = psutil.Process()
        own = sum(me.cpu_times()[:4])
        for child in me.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                own += sum(child.cpu_times()[:2])
        return total - idle, float(own), total

    def fraction(self) -> float | None:
        now = self._reading()
        if self.start is None or now is None or now[2] - self.start[2] < self.SHORTEST_S:
            return None  # too short a window to say anything
        busy, own, total = (b - a for a, b in zip(self.start, now, strict=True))
        return round(max(0.0, busy - own) / total, 4)


def cpu_steal_s() -> tuple[float, float] | None:
    """(steal, total) CPU seconds of the whole machine since boot: steal is
    time a hypervisor gave this virtual machine's CPUs to someone else."""
    psutil = _psutil()
    if psutil is None:
        return None
    t = psutil.cpu_times()
    return float(getattr(t, "steal", 0.0)), float(sum(t))
