"""The decision budget (``bench.runner.decide``): a second look at a threads-or-processes
duel the confirmation left undecided, its error split between the looks."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from gilbench.bench.analysis.verdicts import duel, duel_confidence, paired_rounds
from gilbench.bench.plan import CellSpec, Plan, Precision
from gilbench.bench.results import Confirmation
from gilbench.bench.runner import decide
from gilbench.bench.runner.block import measure_block
from gilbench.bench.runner.confirm import confirm_precision, confirmed
from gilbench.bench.runner.placement import FREE, Placement
from tests import decisions
from tests.helpers import ratios_cell


def finalist(strategy, times, serial, alphas=(), more=()):
    c = ratios_cell("x", "io", strategy, 2, 1.8, 2.0, 2.2)
    conf = Confirmation(tuple(times), tuple(serial), alphas=alphas, duel_times_s=tuple(more))
    return dataclasses.replace(c, confirmation=conf)


def test_the_duels_level_follows_the_looks_the_run_planned():
    from gilbench.bench.analysis.cells import confirmed_view

    serial = [1.0] * 10
    one = [finalist(s, [0.5] * 10, serial) for s in ("threads", "process_pool")]
    assert duel_confidence(*one) == 0.95  # one look planned: all of the 5%
    two = [finalist(s, [0.5] * 10, serial, decide.DUEL_ALPHAS)
           for s in ("threads", "process_pool")]
    assert duel_confidence(*two) == pytest.approx(1 - decide.DUEL_ALPHAS[0])
    t = finalist("threads", [0.5] * 10, serial, decide.DUEL_ALPHAS, [0.5] * 20)
    p = finalist("process_pool", [0.4] * 10, serial, decide.DUEL_ALPHAS, [0.25] * 18)
    assert duel_confidence(t, p) == pytest.approx(1 - decide.DUEL_ALPHAS[1])
    # the follow-up's rounds append to the confirmation's, pairwise, as far as both ran
    assert paired_rounds(confirmed_view(t), confirmed_view(p)) == [0.8] * 10 + [0.5] * 18
    assert sum(decide.DUEL_ALPHAS) <= 0.05 + 1e-12


def test_a_confirmation_cannot_spend_more_than_five_percent():
    with pytest.raises(ValueError, match="add up to 5% at most"):
        Confirmation((1.0,), (1.0,), alphas=(0.03, 0.03))
    with pytest.raises(ValueError, match="positive"):
        Confirmation((1.0,), (1.0,), duel_times_s=(0.0,))
    c = Confirmation((1.0,), (1.0,), alphas=(0.02, 0.03), duel_times_s=(0.5,))
    assert Confirmation.from_dict(dataclasses.asdict(c)) == c


def confirmation_block(d, seed, alphas=decide.DUEL_ALPHAS):
    """Two finalists of true speedups 1.6 and 1.6 × (1 + d), confirmed on a fake clock
    through the production block (tests/decisions.py's machine), and the options to
    measure them again."""
    rng = np.random.default_rng(seed)
    clock = decisions._Clock()
    strats = decisions._strategies(clock, decisions._Machine(rng, decisions.NOISES[0]), d)
    specs = [CellSpec(decisions.WORKLOAD, s, None, 2, 1, 2)
             for s in ("fake_threads", "fake_processes")]
    options = dict(warmup=0, timeout_s=None, clock=clock, usable_cpus=64,
                   strategies=strats, placement=Placement(FREE))
    measured = measure_block(specs, lambda i: i, None,
                             precision=confirm_precision(Precision(6, 6)),
                             serial=strats["serial"](1), **options)
    cells = [confirmed(c, c, alphas) for c, _ in measured]
    by_name = {s.strategy: s for s in specs}
    calls = []

    def again(chosen, precision):
        calls.append(precision)
        return measure_block(chosen, lambda i: i, None, precision=precision, serial=None,
                             **options)

    return cells, (lambda c: by_name[c.strategy]), again, calls, clock


def undecided_seed(d=0.10):
    for seed in range(200):
        cells, *_ = confirmation_block(d, seed)
        if decide.undecided(cells, 64) is not None:
            return seed
    raise AssertionError("no seed left the duel undecided")


def test_an_undecided_duel_gets_twenty_more_rounds_of_its_two_finalists():
    seed = undecided_seed()
    cells, spec_of, again, calls, clock = confirmation_block(0.10, seed)
    budget = decide.Budget(math.inf)
    out = decide.follow_up(cells, spec_of, again, 64, 5.0, budget, clock)
    assert [s.strategy for s, _ in out] == ["fake_threads", "fake_processes"]
    assert len(calls) == 1 and calls[0].max_repeats == decide.FOLLOW_UP_ROUNDS
    for _, c in out:
        assert c.confirmation is not None
        assert len(c.confirmation.duel_times_s) == decide.FOLLOW_UP_ROUNDS
        assert c.confirmation.times_s == next(
            x for x in cells if x.strategy == c.strategy).confirmation.times_s
    after = duel([c for _, c in out], 64).comparison
    assert after is not None and after.pairs == 10 + decide.FOLLOW_UP_ROUNDS
    assert after.looks == 2
    if after.winner != "tie":  # a tie's words name no rounds
        assert "30 paired rounds in two looks" in duel([c for _, c in out], 64).text
    assert budget.spent_s > 0
    # looked at twice: no third look
    assert decide.undecided([c for _, c in out], 64) is None


def test_no_second_look_when_decided_unplanned_out_of_budget_or_failed():
    seed = undecided_seed()
    cells, spec_of, again, calls, clock = confirmation_block(0.10, seed)
    assert decide.follow_up(cells, spec_of, again, 64, 5.0, decide.Budget(0.0), clock) == []
    one_look = [dataclasses.replace(c, confirmation=dataclasses.replace(
        c.confirmation, alphas=())) for c in cells]
    assert decide.undecided(one_look, 64) is None  # a run that planned one look

    def failing(chosen, precision):
        done = again(chosen, precision)
        return [done[0], (dataclasses.replace(done[1][0], status="error", error="x",
                                              times_s=()), None)]

    assert decide.follow_up(cells, spec_of, failing, 64, 5.0, decide.Budget(math.inf),
                            clock) == []
    clear, spec_of, again, calls, clock = confirmation_block(0.50, 1)  # a 50% difference
    assert duel(clear, 64).winner == "processes"
    assert decide.follow_up(clear, spec_of, again, 64, 5.0, decide.Budget(math.inf),
                            clock) == [] and calls == []


def test_the_budget_bounds_the_follow_up_and_is_spent():
    seed = undecided_seed()
    cells, spec_of, again, calls, clock = confirmation_block(0.10, seed)
    budget = decide.Budget(0.55)  # 17 rounds of the two, not 20 (25 ms ÷ 1.6 a run)
    out = decide.follow_up(cells, spec_of, again, 64, 5.0, budget, clock)
    assert calls[0].budget_s == pytest.approx(0.275)  # shared by the two cells
    assert out and (decide.MIN_FOLLOW_UP_ROUNDS <= len(out[0][1].confirmation.duel_times_s)
                    < decide.FOLLOW_UP_ROUNDS)
    assert budget.left_s == 0


def test_no_second_look_the_budget_cannot_pay_for():
    # 0.2 s buys about 6 rounds of the two: the look would spend its 3% for nothing
    seed = undecided_seed()
    cells, spec_of, again, calls, clock = confirmation_block(0.10, seed)
    budget = decide.Budget(0.2)
    assert decide.follow_up(cells, spec_of, again, 64, 5.0, budget, clock) == []
    assert calls == [] and budget.left_s == 0.2
    # a per-cell budget smaller than the look's rounds does not refuse it (quick's 0.2 s
    # buys ten rounds of a 20 ms run): the look gets its rounds' time, and no more
    budget = decide.Budget(math.inf)
    out = decide.follow_up(cells, spec_of, again, 64, 0.1, budget, clock)
    assert out and len(out[0][1].confirmation.duel_times_s) == decide.FOLLOW_UP_ROUNDS
    pace = max(np.median(c.confirmation.times_s) for c in cells)
    assert calls[0].budget_s == pytest.approx(decide.FOLLOW_UP_ROUNDS * pace)


def test_the_estimate_counts_the_decision_budget():
    from gilbench.bench.runner.expand import confirmation_cost_s, expected_s, specs

    plan = Plan(profile="quick", workloads=("sleep",), strategies=("serial", "threads",
                                                                    "process_pool"),
                workers=(2,), start_methods=("fork",), repeats=6, warmup=1, tasks=8,
                timeout_s=60, sizes=(("sleep", 10),), max_repeats=20, target_ci=0.05,
                cell_budget_s=2.0)
    cells = specs(plan)
    confirm = confirmation_cost_s(plan, cells, usable=2)
    budget = decide.decision_budget_s(plan, cells, usable=2)
    assert confirm > 0 and budget == pytest.approx(decide.DECISION_SHARE * confirm)
    without = expected_s(plan, cells, [], usable=2) - budget
    assert without > 0 and expected_s(plan, cells, [], usable=2) == pytest.approx(
        without + budget)


def test_the_budget_follows_what_the_confirmations_cost():
    budget = decide.Budget(1.0)
    budget.confirmed(estimated_s=0.6, measured_s=4.6)  # the estimate was 4 s short
    assert budget.total_s == pytest.approx(1.0 + decide.DECISION_SHARE * 4.0)
    budget.confirmed(estimated_s=2.0, measured_s=0.5)  # faster than planned: kept
    assert budget.total_s == pytest.approx(1.0 + decide.DECISION_SHARE * 4.0)
    none = decide.Budget(0.0)  # a run that plans no second look gets none
    none.confirmed(0.6, 4.6)
    assert none.total_s == 0.0


def force_undecided(monkeypatch):
    """Make every duel read undecided until it has had its second look (the real
    ``decide.undecided`` after it); the duels forced, as they come."""
    real = decide.undecided
    forced = []

    def always(cells, usable):
        d = duel(cells, usable)
        confs = [c.confirmation for c in (d.threads, d.processes) if c is not None]
        if len(confs) < 2 or any(c is None or c.duel_times_s for c in confs):
            return real(cells, usable)
        forced.append(d)
        return d

    monkeypatch.setattr(decide, "undecided", always)
    return forced


@pytest.mark.slow
def test_a_real_sweep_looks_again_at_an_undecided_duel(monkeypatch):
    """The sweep's wiring, with real threads and processes on sleep: the duel is made to
    read undecided (``decide.undecided`` forced), so the two finalists run again together
    and the sweep reports them a third time, with their follow-up rounds."""
    from gilbench.bench.runner.sweep import run as run_sweep
    from gilbench.workloads import WORKLOADS

    forced = force_undecided(monkeypatch)
    plan = Plan(profile="quick", workloads=("sleep",),
                strategies=("serial", "threads", "process_pool"), workers=(2,),
                start_methods=("fork",), repeats=6, warmup=1, tasks=8, timeout_s=60,
                sizes=(("sleep", WORKLOADS["sleep"].size_for("quick")),),
                max_repeats=20, target_ci=0.05, cell_budget_s=2.0)
    seen: list[str] = []
    cells = run_sweep(plan, on_cell=lambda s, c: seen.append(c.strategy))
    assert len(forced) == 1
    assert seen.count("threads") == seen.count("process_pool") == 3  # sweep, confirm, look
    finals = [c for c in cells if c.strategy in ("threads", "process_pool")]
    for c in finals:
        assert c.confirmation is not None and c.confirmation.alphas == decide.DUEL_ALPHAS
        assert 2 <= len(c.confirmation.duel_times_s) <= decide.FOLLOW_UP_ROUNDS
    assert duel(cells, 2).comparison.pairs > len(finals[0].confirmation.times_s)


@pytest.mark.slow
def test_a_kernel_slower_than_its_profile_still_gets_its_second_look(monkeypatch):
    """A kernel whose runs outlast the per-cell budget (a user's calibrated one at quick):
    priced from the estimate, the decision budget buys no look; priced from what the
    confirmation really took, it does. Real threads and processes on sleep."""
    from gilbench.bench.runner.expand import specs
    from gilbench.bench.runner.sweep import run as run_sweep

    forced = force_undecided(monkeypatch)
    plan = Plan(profile="quick", workloads=("sleep",),
                strategies=("serial", "threads", "process_pool"), workers=(2,),
                start_methods=("fork",), repeats=6, warmup=1, tasks=4, timeout_s=60,
                sizes=(("sleep", 20),), max_repeats=20, target_ci=0.05,
                cell_budget_s=0.02)
    planned = decide.decision_budget_s(plan, specs(plan), usable=2)
    # a run of 4 tasks of 20 ms on 2 workers takes at least 40 ms: the look's 10 rounds
    # of two such runs at least 0.8 s, beyond what the estimate planned
    assert planned < decide.MIN_FOLLOW_UP_ROUNDS * 2 * 0.04
    seen: list[str] = []
    cells = run_sweep(plan, on_cell=lambda s, c: seen.append(c.strategy))
    assert len(forced) == 1
    assert seen.count("threads") == seen.count("process_pool") == 3  # sweep, confirm, look
    finals = [c for c in cells if c.strategy in ("threads", "process_pool")]
    assert all(len(c.confirmation.duel_times_s) >= decide.MIN_FOLLOW_UP_ROUNDS
               for c in finals)
