"""results.json: round trip, validation, atomic save, and clear errors for bad files."""

import dataclasses
import json

import pytest

from gilbench.bench import results as R
from gilbench.bench import stats
from gilbench.bench.errors import UserError
from gilbench.bench.results import Cell, Results, from_json_data, with_speedup
from tests.helpers import fib_cell as cell
from tests.helpers import full_sample
from tests.helpers import sync_entry as sync


def make_cell(strategy="serial", workers=1, times=(1.0, 1.1, 0.9), **kw):
    base = dict(workload="fib", kind="cpu", size=10, tasks=4, strategy=strategy,
                start_method=None, workers=workers, status="ok", model="serial",
                times_s=tuple(times), median_s=sorted(times)[len(times) // 2] if times else None)
    base.update(kw)
    return R.Cell(**base)


def make_results(cells=None):
    cells = cells or [make_cell(), make_cell("pool_map", 2, (0.5, 0.55, 0.6),
                                             start_method="fork", model="processes")]
    return R.Results(machine={"hostname": "h", "usable_cpus": 2}, cells=tuple(cells),
                     run={"profile": "smoke", "complete": True})


def test_round_trip_through_a_file(tmp_path):
    res = make_results(R.with_speedups(make_results().cells))
    path = tmp_path / "results.json"
    R.save(res, path)
    back = R.load(path)
    assert back == res
    data = json.loads(path.read_text())
    assert data["schema_version"] == 1
    assert set(data) >= {"schema_version", "created_at", "tool", "machine", "cells"}
    cell = data["cells"][1]
    for key in ("workload", "kind", "size", "tasks", "strategy", "start_method", "workers",
                "status", "error", "times_s", "median_s", "startup_s", "cpu_s", "speedup",
                "speedup_ci95", "efficiency"):
        assert key in cell


def test_save_leaves_no_temporary_file(tmp_path):
    R.save(make_results(), tmp_path / "results.json")
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_with_speedups_divides_the_serial_median():
    cells = R.with_speedups(make_results().cells)
    serial, pool = cells
    assert serial.speedup == 1.0 and serial.efficiency == 1.0
    assert pool.speedup == pytest.approx(1.0 / 0.55)
    assert pool.efficiency == pytest.approx(1.0 / 0.55 / 2)
    assert pool.speedup_ci95 is None  # 3 runs a side, unpaired: too few for 95%
    seven = make_results([make_cell(times=[1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0]),
                          make_cell("pool_map", 2, [0.5, 0.55, 0.6, 0.52, 0.58, 0.55, 0.54],
                                    model="processes")])
    _, pool = R.with_speedups(seven.cells)
    # Seven runs a side would give an unpaired interval, but runs not interleaved with
    # serial ones carry the machine's drift between them: a point, no interval.
    assert pool.speedup == pytest.approx(1.0 / 0.55) and pool.speedup_ci95 is None
    stored = make_results([seven.cells[0], dataclasses.replace(
        seven.cells[1], speedup=1.8, speedup_ci95=(1.5, 2.2))])  # an older file's
    _, pool = R.with_speedups(stored.cells)
    assert pool.speedup == 1.8 and pool.speedup_ci95 is None and R.unpaired([pool]) == [pool]


def test_with_speedups_of_a_paired_cell_is_the_median_ratio():
    serial = [1.0, 2.0, 1.0, 2.0, 1.0, 2.0]
    paired = make_cell("pool_map", 2, [0.5, 1.0, 0.4, 1.0, 0.5, 1.0], model="processes",
                       serial_times_s=tuple(serial))
    _, pool = R.with_speedups([make_cell(), paired])
    assert pool.speedup == 2.0  # ratios 2, 2, 2.5, 2, 2, 2
    # 6 pairs: between the full range [2.0, 2.5] and the 2nd ratios [2.0, 2.0], where the
    # coverage crosses 95% (interpolated)
    lo, hi = pool.speedup_ci95
    assert lo == 2.0 and 2.0 < hi < 2.5
    assert (lo, hi) == pytest.approx(stats.median_interval([2, 2, 2.5, 2, 2, 2]))
    assert pool.ci_half_width == pytest.approx((hi - lo) / 2 / 2.0)


def test_failed_cells_get_no_speedup():
    bad = make_cell("threads", 2, (), status="timeout", error="too slow", median_s=None)
    cells = R.with_speedups([make_cell(), bad])
    assert cells[1].speedup is None


@pytest.mark.parametrize("change, message", [
    (dict(status="fine"), "status"),
    (dict(workers=0), "workers"),
    (dict(times_s=()), "times"),
    (dict(times_s=(1.0, -2.0)), "non-negative"),
])
def test_cells_are_validated(change, message):
    with pytest.raises(ValueError, match=message):
        make_cell(**change)


def test_duplicate_cells_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        make_results([make_cell(), make_cell()])


@pytest.mark.parametrize("content, message", [
    ("", "is empty"),
    ('{"schema_version": 1, "cells": [', "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"hello": 1}', "no schema_version"),
    ('{"schema_version": 99}', "upgrade gilbench"),
    ('{"schema_version": 1, "created_at": "x", "tool": {}, "machine": {}}', "missing field"),
    ('{"schema_version": 1, "created_at": "x", "tool": {}, "machine": {}, "cells": ["a"]}',
     "not a valid gilbench results file"),
])
def test_bad_files_are_one_clear_user_error(tmp_path, content, message):
    path = tmp_path / "results.json"
    path.write_text(content)
    with pytest.raises(UserError, match=message):
        R.load(path)


def test_missing_file_and_folder_without_results(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        R.load(tmp_path / "nope.json")
    with pytest.raises(UserError, match="without a results"):
        R.load(tmp_path)


def test_a_paired_cell_divides_by_its_own_serial_runs():
    c = cell("process_pool", 2, 0.5)
    paired = Cell(**{**c.__dict__, "serial_times_s": (1.2,) * 7})
    done = with_speedup(paired, [1.0] * 7)  # the serial cell's times are not used
    assert done.speedup == pytest.approx(2.4)  # the median of 1.2 / (0.5 x spread)
    # 7 pairs: k = 1, interpolated toward the 2nd ratios: inside the full range
    lo, hi = done.speedup_ci95
    assert 1.2 / 0.505 < lo < 2.4 < hi < 1.2 / 0.495
    three = Cell(**{**c.__dict__, "times_s": (0.5,) * 3, "serial_times_s": (1.2,) * 3})
    assert with_speedup(three, [1.0]).speedup_ci95 is None  # 3 pairs: no 95% interval


def test_serial_times_must_pair_one_for_one():
    with pytest.raises(ValueError, match="pair"):
        cell("threads", 2, 1.0, serial_times_s=(1.0,))


def test_new_fields_survive_the_json_round_trip():
    c = cell("threads", 2, 1.0, serial_times_s=(1.0, 1.1, 0.9, 1.0, 1.0, 1.0, 1.0), cpu_s=0.5,
             cpu_utilization=0.25,
             peak_rss_bytes=123456, ci_half_width=0.02, noise="why", noisy=True)
    assert Cell.from_dict(json.loads(json.dumps(c.to_dict()))) == c


def test_suites_survive_the_results_file_and_bad_ones_are_refused():
    r = full_sample()
    data = json.loads(json.dumps(r.to_dict()))
    assert set(data) >= {"startup", "ipc", "sync", "latency", "cells"}
    assert from_json_data(data, "x.json") == r
    data["ipc"][0]["median_s"] = -3
    with pytest.raises(UserError, match="median_s must be a non-negative number"):
        from_json_data(data, "x.json")
    del data["ipc"]
    data["sync"][0] = {"model": "threads"}  # no mechanism
    with pytest.raises(UserError, match="not a valid gilbench results file"):
        from_json_data(data, "x.json")
    with pytest.raises(ValueError, match="entry of another suite"):
        Results(machine={}, cells=(), suites={"ipc": (sync("lock", "threads", 1e-5),)})


def test_strategy_facts_are_read_from_the_file_and_old_files_get_their_facts_then():
    from gilbench.bench.strategies import STRATEGIES
    from gilbench.bench.strategyfacts import BEFORE_THE_TABLE, StrategyFacts

    engine = StrategyFacts("processes", "engine", per_task_s=0.5)
    written = Results(machine={}, cells=(), run={"strategies": {"dask": engine.to_dict()}})
    again = from_json_data(json.loads(json.dumps(written.to_dict())), "test")
    assert again.strategy_facts("dask") == engine  # the file's, not today's class's
    assert again.strategy_facts("loky") is None  # a file with a table says what it holds
    old = Results(machine={}, cells=())  # a file from before runs wrote the table
    assert old.strategy_facts("loky") == BEFORE_THE_TABLE["loky"]
    assert old.strategy_facts("loky").is_engine
    # The strategies of those files declare the same facts today (moving the facts onto
    # the classes changed none of them; a fact changed on purpose later changes this line).
    assert {n: STRATEGIES[n].facts() for n in BEFORE_THE_TABLE} == BEFORE_THE_TABLE
    with pytest.raises(ValueError, match="family must be one of"):
        StrategyFacts("processes", "cluster")


def test_usable_cpus_is_read_in_one_place_and_unknown_is_zero():
    from gilbench.bench.results import Results, usable_cpus_of

    assert usable_cpus_of({"usable_cpus": 16}) == 16
    assert usable_cpus_of({"usable_cpus": 2.0}) == 2
    for unknown in ({}, {"usable_cpus": None}, {"usable_cpus": "2"}, {"usable_cpus": 0}):
        assert usable_cpus_of(unknown) == 0
    assert Results(machine={"usable_cpus": 4}, cells=()).usable_cpus == 4
