"""The cost suites (startup, ipc, sync, latency) on real processes, pipes, shared memory,
sockets and Manager servers, at their smallest budget; their entries and their faults.

No test asserts a timing: every assertion is about what was measured and how it
ended (status, counts, lifecycle observations, nothing left behind).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import time

import pytest

from gilbench.bench import stats
from gilbench.bench.strategies import CellTimeout, Deadline
from gilbench.bench.suites import (
    COST_SUITES,
    ENTRY_TYPES,
    IpcEntry,
    LatencyEntry,
    StartupEntry,
    SyncEntry,
    cost_suite,
    ipc,
    latency,
    sync,
)
from gilbench.bench.suites import suite_run as runner
from gilbench.bench.suites.ipc import IpcBudget
from tests import kernels
from tests.helpers import assert_no_new_children, children

SMOKE = {name: cost_suite(name).budget("smoke") for name in COST_SUITES}  # each its own


# The tests that share ``measured`` stay on one pytest-xdist worker, which measures once.
pytestmark = pytest.mark.xdist_group("test_suites-measured")


@pytest.fixture(scope="module")
def measured() -> dict[str, list]:
    """Each suite run once at the smoke budget (shared by the tests below)."""
    out: dict[str, list] = {}
    for name in COST_SUITES:
        before = children()
        entries: list = []
        runner(name)(SMOKE[name], 2, entries.append, 60)
        assert_no_new_children(before)
        out[name] = entries
    return out


@pytest.mark.parametrize("suite", COST_SUITES)
def test_every_entry_is_ok_typed_and_survives_json(suite, measured):
    entries = measured[suite]
    assert entries
    # ok, or skipped with the reason this interpreter cannot measure it (subinterpreters
    # before 3.13, an InterpreterPoolExecutor before 3.14)
    bad = [(e, e.error) for e in entries if not e.ok and not (
        e.status == "skipped" and e.model == "interpreters" and "needs Python 3.1" in e.error)]
    assert not bad, bad
    for e in entries:
        assert type(e) is ENTRY_TYPES[suite]
        assert type(e).from_dict(e.to_dict()) == e
        if e.median_s is not None and e.p99_s is not None:
            assert e.p99_s >= e.median_s > 0


def test_startup_covers_threads_every_start_method_and_pools(measured):
    entries = measured["startup"]
    starts = {(e.model, e.start_method) for e in entries if e.what == "start_join"}
    assert starts == {("threads", None), ("interpreters", None)} | {
        ("processes", m) for m in multiprocessing.get_all_start_methods()}
    pools = [e for e in entries if e.what == "pool"]
    assert {e.workers for e in pools} == {1, 2}
    assert {e.model for e in pools} == {"threads", "processes", "interpreters"}
    # A local Ray (installed for the tests), started and stopped as the ray strategy does.
    ray = [e for e in pools if e.start_method == "ray"]
    assert [(e.ok, e.workers) for e in ray] == [(True, 2)], ray
    assert ray[0].median_s and ray[0].stop_s and ray[0].repeats >= 1
    biggest = [e for e in pools if e.workers == 2 and e.model == "processes"
               and e.start_method != "ray"]
    assert biggest and all(e.uss_bytes and e.pss_bytes for e in biggest)
    assert all(e.stop_s is not None for e in pools if e.ok)
    # A subinterpreter pool (3.14+) is measured where it exists, and said why not elsewhere.
    pool = [e for e in pools if e.model == "interpreters"]
    if hasattr(concurrent.futures, "InterpreterPoolExecutor"):
        assert all(e.ok and e.median_s for e in pool)
    else:
        assert all(e.status == "skipped" and "needs Python 3.14+" in e.error for e in pool)


def test_startup_observes_the_zombie_and_gilbench_leaves_none(measured):
    checks = {e.what: e for e in measured["startup"]
              if e.what in ("zombie", "no_zombies", "get_timeout")}
    assert checks["zombie"].observed is True, checks["zombie"].detail
    assert "zombie" in checks["zombie"].detail and "reaped" in checks["zombie"].detail
    assert checks["no_zombies"].observed is True, checks["no_zombies"].detail
    assert "worker died" in checks["no_zombies"].detail
    assert checks["get_timeout"].observed is True
    assert "TimeoutError" in checks["get_timeout"].detail


def test_ipc_measures_every_transport_at_every_payload(measured):
    entries = measured["ipc"]
    got = {(e.transport, e.payload_bytes) for e in entries}
    want = {(t, p) for t in [*ipc.TRANSPORTS, "memcpy"] for p in SMOKE["ipc"].payloads}
    assert got == want
    for e in entries:
        if e.transport != "memcpy":
            assert e.round_trips >= 5 and e.messages == SMOKE["ipc"].messages_for(e.payload_bytes)
        assert e.bytes_per_s == pytest.approx(e.msgs_per_s * e.payload_bytes)


def test_sync_measures_every_mechanism_for_threads_and_processes(measured):
    got = {(e.mechanism, e.model) for e in measured["sync"]}
    assert got == {(m, model) for m, cls in sync.MECHANISMS.items() for model in cls.models}
    assert all(e.round_trips >= 5 for e in measured["sync"])


def test_latency_measures_each_load_as_threads_and_as_processes(measured):
    entries = measured["latency"]
    loads = {(e.model, e.cpu_workers) for e in entries}
    assert loads == {("threads", 0), ("threads", 1), ("threads", 2), ("processes", 1),
                     ("processes", 2)}
    assert all(e.pings >= 10 and e.max_s >= e.p99_s for e in entries)


@pytest.mark.parametrize("method", multiprocessing.get_all_start_methods())
def test_ipc_and_sync_under_each_start_method(method):
    entries: list = []
    ctx = multiprocessing.get_context(method)
    for name in ("pipe", "shared_memory", "manager"):
        entries.append(ipc.measure(ipc.TRANSPORTS[name], 4096, SMOKE["ipc"], ctx,
                                   Deadline(60)))
    for name in ("lock", "condition", "manager"):
        entries.append(sync.measure(name, "processes", SMOKE["sync"], ctx, Deadline(60)))
    assert all(e.ok and e.start_method == method for e in entries)


def test_a_partner_that_dies_fails_the_measurement_quickly(monkeypatch):
    monkeypatch.setattr(ipc, "_serve", kernels.exits_at_once)
    monkeypatch.setattr(sync, "_serve", kernels.exits_at_once)
    monkeypatch.setattr(latency, "_host", kernels.exits_at_once)
    before = children()
    started = time.monotonic()
    got: list = []
    # A hang guard, not a timing: each measurement has a 120 s limit it must not wait for
    # once its partner is dead (together they take a few seconds).
    ipc.run(dataclasses.replace(SMOKE["ipc"], payloads=(64,)), 2, got.append, 120,
            start_method="fork", transports=("pipe", "shared_memory", "manager"))
    sync.run(SMOKE["sync"], 2, got.append, 120, start_method="fork",
             mechanisms=("lock", "pipe"))
    latency.run(dataclasses.replace(SMOKE["latency"], switch_intervals=()), 1, got.append, 120,
                start_method="fork")
    assert time.monotonic() - started < 100, "a dead partner must not wait for the time limit"
    partnered = [e for e in got if getattr(e, "transport", "") != "memcpy"]
    assert partnered and all(e.status == "error" for e in partnered), partnered
    for e in partnered:
        if e.model == "processes" or isinstance(e, LatencyEntry):  # the host is a process
            assert "exited with code 3" in e.error or "closed its end" in e.error, e.error
        else:
            assert "partner thread ended early" in e.error, e.error
    assert_no_new_children(before)


def test_a_partner_that_never_answers_times_out(monkeypatch):
    monkeypatch.setattr(ipc, "_serve", kernels.never_answers)
    monkeypatch.setattr(sync, "_serve", kernels.never_answers)
    before = children()
    started = time.monotonic()
    got: list = []
    ipc.run(dataclasses.replace(SMOKE["ipc"], payloads=(64,)), 2, got.append, 1.0,
            start_method="fork", transports=("pipe",))
    with pytest.raises(CellTimeout, match="time limit"):
        sync.measure("event", "processes", SMOKE["sync"], multiprocessing.get_context("fork"),
                     Deadline(1.0))
    assert time.monotonic() - started < 60  # a hang guard: two 1 s limits, then torn down
    partnered = [e for e in got if e.transport != "memcpy"]
    assert partnered and all(e.status == "timeout" for e in partnered), partnered
    assert all("time limit" in e.error for e in partnered)
    assert_no_new_children(before)


def test_budget_clamps_round_trips_and_messages():
    b = IpcBudget(round_trips=300, stream_bytes=64 * 2**20, max_messages=2000,
                  stream_repeats=1, payloads=(64,), seconds=1)
    assert b.round_trips_for(64) == 300  # capped by the count
    assert b.round_trips_for(2**20) == 32  # 64 MiB / (2 x 1 MiB)
    assert b.round_trips_for(2**30) == 5  # never fewer than five
    assert b.messages_for(64) == 2000
    assert b.messages_for(16 * 2**20) == 4


def test_entries_are_validated():
    with pytest.raises(ValueError, match="status"):
        SyncEntry(mechanism="lock", status="fine")
    with pytest.raises(ValueError, match="median_s"):
        IpcEntry(transport="pipe", payload_bytes=64, median_s=-1.0)
    with pytest.raises(ValueError, match="no error"):
        LatencyEntry(cpu_workers=0, switch_interval_s=0.005, error="boom")
    with pytest.raises(TypeError):
        StartupEntry()  # what is required


def test_percentile_by_hand():
    assert stats.percentile([1, 2, 3, 4, 5], 50) == 3
    assert stats.percentile([0, 10], 99) == pytest.approx(9.9)
    assert stats.percentile(list(range(101)), 99) == 99
