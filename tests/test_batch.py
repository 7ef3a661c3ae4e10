"""Several previews at once: the same plans as one by one, each distinct config run once."""

from __future__ import annotations

import pickle
from collections.abc import Sequence

import pytest

from reskflow_dr import batch, engine
from reskflow_dr.batch import Job, previews, program_key, run_programs
from reskflow_dr.engine import Plan, ProgramError, run_program
from reskflow_dr.preview import ROOT, load
from tests.conftest import ROLE_OVERRIDES, PlanCache


def _job(stack: str, overrides: Sequence[str] = ()) -> Job:
    config, settings = load(ROOT, stack, overrides)
    return config, settings.account_id, settings.region


def _json(plans: list[Plan]) -> list[dict[str, object]]:
    return [p.to_json() for p in plans]


def test_forked_runs_give_the_plans_of_runs_one_by_one(
    monkeypatch: pytest.MonkeyPatch, plan_cache: PlanCache
) -> None:
    """The first program here, the next here too beside one forked process: the same plans, in
    order, as previews one by one; a repeated config runs once and still gives each job its own
    plan object. Every run is a real one (the session's plan cache is set aside)."""
    monkeypatch.setattr(engine, "run_program", run_program)
    jobs = [
        _job("prod"),
        _job("dr"),
        _job("prod", ROLE_OVERRIDES["prod", "passive"]),
        _job("prod"),
    ]
    runs: list[str] = []
    real = batch._run

    def counted(job: Job) -> Plan:
        runs.append(job[0].stack)  # counted here only: a forked run counts in its own process
        return real(job)

    monkeypatch.setattr(batch, "_run", counted)
    monkeypatch.setattr(batch, "cpus", lambda: 2)
    together = run_programs(jobs)
    assert runs == ["prod", "dr"]
    monkeypatch.undo()  # the cached previews again, for the plans one by one
    one_by_one = [
        plan_cache.plan("prod"),
        plan_cache.plan("dr"),
        plan_cache.plan("prod", *ROLE_OVERRIDES["prod", "passive"]),
        plan_cache.plan("prod"),
    ]
    assert _json(together) == _json(one_by_one)
    assert together[3] is not together[0]
    assert [p.stack for p in together] == ["prod", "dr", "prod", "prod"]


def test_without_workers_everything_runs_here(monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = [_job("dr"), _job("prod"), _job("dr")]
    runs: list[str] = []
    real = batch._run
    monkeypatch.setattr(batch, "_run", lambda job: runs.append(job[0].stack) or real(job))
    assert [p.stack for p in run_programs(jobs, workers=0)] == ["dr", "prod", "dr"]
    assert runs == ["dr", "prod"]


def test_a_bad_config_stops_every_preview_before_any_program_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(batch, "run_programs", lambda jobs: pytest.fail("a program ran"))
    requests = [batch.Request("prod"), batch.Request("dr", ("reskflow:role=primary",))]
    with pytest.raises(Exception, match=r"reskflow:role") as err:
        previews(requests)
    assert type(err.value).__name__ == "ConfigError"


def test_program_errors_cross_processes_whole() -> None:
    err = pickle.loads(pickle.dumps(ProgramError("reskflow:x = 1: not allowed", config_error=True)))
    assert (str(err), err.config_error) == ("reskflow:x = 1: not allowed", True)
    assert pickle.loads(pickle.dumps(ProgramError("boom"))).config_error is False


def test_the_key_is_the_whole_config() -> None:
    prod, dr = _job("prod"), _job("dr")
    assert program_key(*prod) == program_key(*_job("prod"))
    assert program_key(*prod) != program_key(*dr)
    assert program_key(*prod) != program_key(*_job("prod", ("reskflow:alarms={}",)))
    assert program_key(prod[0], prod[1], "us-west-2") != program_key(*prod)
