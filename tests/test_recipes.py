"""The recipes of docs/developing.md, followed in a test: a toy kernel, strategy, cost
suite, report section and comparison section, chart, interpreter implementation and build
fact, and interval method, each added in the places its recipe names
and nowhere else, and picked up by the registries, the plan, the run's estimate, a real
run and the report.

Each toy is registered by a fixture and taken out again afterwards, so no other test
(whose parameters come from the registries) sees it.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from typing import ClassVar

import pytest

from gilbench.bench.cli import make_parser
from gilbench.bench.entries import ENTRY_TYPES, Entry, entry_type
from gilbench.bench.machine import collect_machine
from gilbench.bench.options import build_plan, default_strategies, parse_suites
from gilbench.bench.report import build as build_report
from gilbench.bench.report import sections
from gilbench.bench.report.document import Para, render_markdown
from gilbench.bench.results import Results, load, utc_now
from gilbench.bench.runner import expected_s, spec_cost_s, specs
from gilbench.bench.session import Session
from gilbench.bench.strategies import STRATEGIES, strategy
from gilbench.bench.strategies.threads import ThreadPool
from gilbench.bench.suites import ALL_SUITES, COST_SUITES, SUITE_TITLES, cost_suite
from gilbench.bench.suites.base import CostSuite
from gilbench.workloads import PROFILE_NAMES, WORKLOADS, workload


def toy_kernel(size: int, seed: int) -> int:
    """A toy kernel from the recipe's test: a sum."""
    return sum(range(size * 100 + seed))


class ToyPool(ThreadPool):
    """A toy strategy from the recipe's test: a thread pool by another name."""

    name = "toy_pool"
    extra_start_s = 0.75  # what the recipe says a strategy declares for itself
    # ... and its facts: an engine (set against process_pool), run only when named
    family = "engine"
    in_default_sweep = False
    per_task_s = 0.003
    # ... and, as a cluster does, the option that names an existing one
    takes_address = "--toy-address"
    address_example = "toy://host:1"

    @classmethod
    def describe_cluster(cls, address):
        return {"address": address}

    def map(self, fn, items, deadline):
        ADDRESSES_SEEN.add(self.address)
        return super().map(fn, items, deadline)


ADDRESSES_SEEN: set = set()


@dataclass(frozen=True, kw_only=True)
class ToyEntry(Entry):
    """One measurement of the toy suite."""

    suite: ClassVar[str] = "toy"
    title: ClassVar[str] = "a toy cost, measured by the recipe's test"
    label_fields: ClassVar[tuple[str, ...]] = ("what",)
    what: str = ""


@dataclass(frozen=True)
class ToyBudget:
    measurements: int


def toy_run(budget, usable_cpus, on_entry, timeout_s, *, start_method=None, workers=None):
    for i in range(budget.measurements):
        on_entry(ToyEntry(what=f"thing{i}", model="threads", median_s=0.001 * (i + 1),
                          p99_s=0.002 * (i + 1)))


def toy_section(results, chart):
    entries = results.entries_of(ToyEntry)
    return [Para(f"Toy suite: {len(entries)} measurements.")] if entries else []


@pytest.fixture
def toy_kernel_added():
    workload(kind="cpu", sizes=dict.fromkeys(PROFILE_NAMES, 3), size_unit="n")(toy_kernel)
    yield "toy_kernel"
    WORKLOADS.pop("toy_kernel", None)


@pytest.fixture
def toy_strategy_added():
    strategy(ToyPool)
    yield "toy_pool"
    STRATEGIES.pop("toy_pool", None)


@pytest.fixture
def toy_suite_added(monkeypatch):
    """The three places of the cost suite recipe: the entry class, the suite's module
    with ``run`` and ``SUITE``, its report module."""
    entry_type(ToyEntry)
    run_module = types.ModuleType("gilbench.bench.suites.toy")
    run_module.SUITE = CostSuite(  # type: ignore[attr-defined]
        name="toy", run=toy_run,
        budgets={"smoke": ToyBudget(2), "quick": ToyBudget(3), "standard": ToyBudget(4)},
        seconds={"smoke": 1, "quick": 2.5, "standard": 7})
    report_module = types.ModuleType("gilbench.bench.report.suites.toy")
    report_module.section = toy_section  # type: ignore[attr-defined]
    report_module.chart = lambda results, stem: []  # type: ignore[attr-defined]
    report_module.headline = (  # type: ignore[attr-defined]
        lambda results: "toy: measured" if results.entries("toy") else None)
    monkeypatch.setitem(sys.modules, "gilbench.bench.suites.toy", run_module)
    monkeypatch.setitem(sys.modules, "gilbench.bench.report.suites.toy", report_module)
    yield "toy"
    ENTRY_TYPES.pop("toy", None)


def plan_of(*args: str):
    return build_plan(make_parser().parse_args(["run", "--profile", "quick", *args]))


def run_plan(plan, out) -> Results:
    session = Session(out, collect_machine(), utc_now(), plan=plan, check_noise=False)
    if plan.sweeps:
        session.run_sweep(lambda cell: None)
    for name in session.suites_to_do():
        session.run_cost_suite(name, lambda entry: None)
    return session.save(complete=True, speedups=True)


def test_the_kernel_recipe_one_decorated_function(toy_kernel_added, tmp_path):
    plan = plan_of("--suite", "speedup", "--workloads", "toy_kernel,fib", "--strategies",
                   "serial,threads", "--workers", "2")
    cells = [s for s in specs(plan) if s.workload == "toy_kernel"]
    assert [s.strategy for s in cells] == ["serial", "threads"]
    assert expected_s(plan, cells, []) > 0
    results = run_plan(plan, tmp_path)
    assert {c.strategy for c in results.cells if c.workload == "toy_kernel" and c.ok} == {
        "serial", "threads"}
    md = render_markdown(build_report(load(tmp_path), {}), tmp_path)
    assert "### toy_kernel" in md and "A toy kernel from the recipe's test" in md


def test_the_strategy_recipe_one_class_that_declares_its_start_cost(toy_strategy_added,
                                                                    tmp_path):
    plan = plan_of("--suite", "speedup", "--workloads", "sleep", "--strategies",
                   "serial,thread_pool,toy_pool", "--workers", "2", "--toy-address",
                   "toy://here:1")
    assert plan.address_of("toy_pool") == "toy://here:1"  # the CLI added its option
    by = {s.strategy: s for s in specs(plan)}
    assert "toy_pool" in by and by["toy_pool"].start_method is None  # threads: no method
    assert spec_cost_s(plan, by["toy_pool"]) - spec_cost_s(plan, by["thread_pool"]) == \
        pytest.approx(ToyPool.extra_start_s)
    assert "toy_pool" not in default_strategies()  # in_default_sweep = False
    results = run_plan(plan, tmp_path)
    toy = next(c for c in results.cells if c.strategy == "toy_pool")
    assert toy.ok and toy.model == "threads" and toy.speedup is not None
    assert {"toy://here:1"} == ADDRESSES_SEEN  # each of its cells got the plan's address
    assert "toy_pool" in render_markdown(build_report(results, {}), tmp_path)
    # Its facts are in the file, and the analysis reads them from there.
    facts = load(tmp_path).strategy_facts("toy_pool")
    assert facts == ToyPool.facts() and facts.is_engine and facts.per_task_s == 0.003


def test_the_cost_suite_recipe_three_places_and_nothing_else(toy_suite_added, tmp_path):
    assert "toy" in COST_SUITES and "toy" in ALL_SUITES and SUITE_TITLES["toy"] == \
        ToyEntry.title
    assert parse_suites("toy") == ["toy"]
    suite = cost_suite("toy")
    assert suite.phase == "suite-toy" and suite.budget("full") == ToyBudget(4)  # standard's
    plan = plan_of("--suite", "toy")
    assert expected_s(plan, specs(plan), ["toy"]) == pytest.approx(2.5)  # its own seconds
    results = run_plan(plan, tmp_path)
    assert [e.describe() for e in results.entries("toy")] == [
        "toy thing0 (thread)", "toy thing1 (thread)", "toy thing2 (thread)"]
    again = load(tmp_path)  # the results file keeps it under its own key, and reads back
    assert again.entries_of(ToyEntry) == list(results.entries("toy"))
    md = render_markdown(build_report(again, {}), tmp_path)
    assert "Toy suite: 3 measurements." in md
    from gilbench.bench.report.suites import headlines

    assert "toy: measured" in headlines(again)


def test_the_report_section_recipes_one_function_in_a_list(monkeypatch, tmp_path):
    from gilbench.bench.report import compare
    from tests.helpers import sample_results

    def hello(results, charts):
        return [Para("Hello from a new run-report section.")]

    def hello_compare(c, charts):
        return [Para(f"Hello from a new comparison section ({len(c.runs)} runs).")]

    monkeypatch.setattr(sections, "SECTIONS", [*sections.SECTIONS[:2], hello,
                                               *sections.SECTIONS[2:]])
    monkeypatch.setattr(compare, "SECTIONS", [*compare.SECTIONS, hello_compare])
    md = render_markdown(build_report(sample_results(), {}), tmp_path)
    assert "Hello from a new run-report section." in md
    runs = [compare.Run("a", "a.json", sample_results()), compare.Run("b", "b.json",
                                                                     sample_results())]
    blocks = compare.build(runs, runs[0], {})
    assert "Hello from a new comparison section (2 runs)." in render_markdown(blocks, tmp_path)


def test_the_chart_recipe_one_function_in_a_list_and_a_section_that_shows_it(monkeypatch,
                                                                               tmp_path):
    from gilbench.bench.report import charts, render
    from gilbench.bench.report.document import Image
    from tests.helpers import sample_results

    def toy_chart(results, out):  # as the recipe says: new_figure, save_figure, a key
        fig = charts.new_figure(figsize=(4, 3))
        ax = fig.add_subplot()
        ax.bar(range(len(results.cells)), [c.speedup or 0 for c in results.cells])
        return {"toy:bars": charts.save_figure(fig, out / "toy-bars")}

    def toy_section(results, found):
        return [Image(found["toy:bars"][0], "toy bars")] if "toy:bars" in found else []

    monkeypatch.setattr(charts, "CHARTS", [*charts.CHARTS, toy_chart])
    monkeypatch.setattr(sections, "SECTIONS", [*sections.SECTIONS, toy_section])
    written = render(sample_results(), tmp_path)
    assert tmp_path / "toy-bars.png" in written and (tmp_path / "toy-bars.svg").is_file()
    assert "toy-bars.png" in (tmp_path / "report.md").read_text(encoding="utf-8")
    assert (tmp_path / "overview.png").is_file()  # the run's own charts still drawn

    def clash(results, out):  # a key another maker already gave
        return {"overview": []}

    monkeypatch.setattr(charts, "CHARTS", [*charts.CHARTS, clash])
    with pytest.raises(ValueError, match="two charts under one key: 'overview'"):
        charts.write_charts(sample_results(), tmp_path / "again")


def test_the_interpreter_kind_recipe_an_implementation_needs_no_edit(monkeypatch):
    import platform

    from gilbench.bench import remote
    from gilbench.bench.analysis.comparison import Run
    from gilbench.bench.interprecord import InterpreterRecord
    from gilbench.bench.report.matrix import interpreter_words
    from tests.helpers import sample_results

    monkeypatch.setattr(platform, "python_implementation", lambda: "GraalPy")
    machine = collect_machine()
    major, minor = sys.version_info[:2]
    record = InterpreterRecord.from_machine(machine)
    assert machine["python_implementation"] == "GraalPy"
    assert record.label == f"graalpy{major}.{minor}"  # never a CPython's python3.x label
    assert remote.probe()["implementation"] == "GraalPy"
    results = Results.from_dict({**sample_results().to_dict(), "machine": machine})
    words = interpreter_words(Run("g", "g.json", results))
    assert words.startswith(f"GraalPy {platform.python_version()}")


def test_the_interpreter_kind_recipe_a_build_fact_is_one_field(monkeypatch, tmp_path):
    import json
    from dataclasses import asdict, replace

    from gilbench.bench import machine as machine_mod
    from gilbench.bench import remote, schemagen
    from gilbench.bench.interprecord import InterpreterRecord

    @dataclass(frozen=True)
    class WithTailCalls(InterpreterRecord):  # the field, as the recipe adds it
        tail_calls: bool | None = None

        def words(self):  # ... and its words
            return super().words() + (", tail-calling interpreter" if self.tail_calls
                                      else "")

    plain = machine_mod.this_interpreter
    monkeypatch.setattr(machine_mod, "this_interpreter",  # ... read where it is read
                        lambda: WithTailCalls(**asdict(plain()), tail_calls=True))
    machine = collect_machine()
    assert machine["tail_calls"] is True and remote.probe()["tail_calls"] is True
    back = WithTailCalls.from_machine(machine)
    assert back.tail_calls is True and back == machine_mod.this_interpreter()
    assert back.words().endswith("tail-calling interpreter")
    assert WithTailCalls.from_machine({}).tail_calls is None  # an older file: unknown
    # ... and the published schema takes it by regenerating
    grown = [replace(r, cls=WithTailCalls) if r.cls is InterpreterRecord else r
             for r in schemagen.records()]
    monkeypatch.setattr(schemagen, "records", lambda: grown)
    for name in ("results.schema.json", "interpreters.schema.json"):
        (tmp_path / name).write_text((schemagen.SCHEMA_DIR / name).read_text("utf-8"), "utf-8")
    path = tmp_path / "results.schema.json"
    assert schemagen.regenerate(tmp_path) == [path]
    schema = json.loads(path.read_text("utf-8"))
    assert schema["properties"]["machine"]["properties"]["tail_calls"] == {
        "type": ["boolean", "null"]}


def test_the_statistic_recipe_one_interval_behind_every_figure(monkeypatch):
    from dataclasses import replace

    from gilbench.bench import stats
    from gilbench.bench.analysis.cells import at_confidence, headline
    from gilbench.bench.entries import timed
    from gilbench.bench.results import with_speedup
    from tests.helpers import ratios_cell

    def toy_interval(values, confidence=stats.CONFIDENCE, *, interpolated=True):  # full range
        return (min(values), max(values)) if len(values) >= 2 else None

    monkeypatch.setattr(stats, "median_interval", toy_interval)
    c = ratios_cell("fib", "cpu", "process_pool", 2, 1.5, 1.8, 2.0)
    three = with_speedup(replace(c, times_s=(0.1,) * 3, serial_times_s=(0.15, 0.18, 0.2)),
                         ())
    # A cell's stored interval: three pairs, where the real method needs six
    assert three.speedup_ci95 == pytest.approx((1.5, 2.0))
    assert at_confidence(three, 0.999) == pytest.approx((1.5, 2.0))  # any level, the same
    best = headline([with_speedup(c, ())], 2)
    assert best is not None and best.cell.speedup_ci95 == pytest.approx((1.5, 2.0))
    assert timed((0.01, 0.03))["median_ci95_s"] == pytest.approx((0.01, 0.03))  # a suite's
