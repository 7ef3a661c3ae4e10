"""Several previews at once: the same plans as one by one, each distinct config run once."""

from __future__ import annotations

import pickle
from collections.abc import Sequence

import pytest

from reskflow_dr import batch
from reskflow_dr.batch import Job, previews, program_key, run_programs
from reskflow_dr.engine import Plan, ProgramError, run_program
from reskflow_dr.preview import ROOT, load
from tests.conftest import ROLE_OVERRIDES


def _job(stack: str, overrides: Sequence[str] = ()) -> Job:
    config, settings = load(ROOT, stack, overrides)
    return config, settings.account_id, settings.region


def _json(plans: list[Plan]) -> list[dict[str, object]]:
    return [p.to_json() for p in plans]


@pytest.mark.fresh_plans
def test_forked_runs_give_the_plans_of_runs_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first program here, the others in forked processes (two at a time, one here): the same
    plans, in order, as ``run_program`` one after the other; a repeated config runs once and
    still gives each job its own plan object."""
    jobs = [
        _job("prod"),
        _job("dr"),
        _job("prod", ROLE_OVERRIDES["prod", "passive"]),
        _job("dr", ROLE_OVERRIDES["dr", "active"]),
        _job("prod"),
    ]
    runs: list[str] = []
    real = batch._run

    def counted(job: Job) -> Plan:
        runs.append(job[0].stack)  # counted here only: forked runs count in their own process
        return real(job)

    monkeypatch.setattr(batch, "_run", counted)
    monkeypatch.setattr(batch, "cpus", lambda: 3)
    together = run_programs(jobs)
    assert runs == ["prod", "dr"]  # the first, then one beside the two forked
    one_by_one = [run_program(*job) for job in jobs]
    assert _json(together) == _json(one_by_one)
    assert together[4] is not together[0]
    assert [p.stack for p in together] == ["prod", "dr", "prod", "dr", "prod"]


@pytest.mark.fresh_plans
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
