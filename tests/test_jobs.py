"""Jobs: states, progress, artifacts, and a failed run never replaces the model in service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopkeeper import jobs
from shopkeeper.errors import ConfigError
from shopkeeper.jobs import JobContext, JobOutcome, JobRunner, current_artifact, run_job
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws", "unused")


@pytest.fixture
def flaky_kind() -> Iterator[dict[str, bool]]:
    """A job kind whose next run succeeds or fails as the test says."""
    switch = {"fail": False}

    def run(ctx: JobContext) -> JobOutcome:
        ctx.progress(0.5, "halfway")
        (ctx.artifact_dir / "model.json").write_text(json.dumps(ctx.params))
        if switch["fail"]:
            raise RuntimeError("the data had no orders")
        return JobOutcome({"score": ctx.params.get("score", 1)})

    jobs.register("test_flaky", "a job kind for tests")(run)
    yield switch
    jobs._KINDS.pop("test_flaky", None)


def test_a_successful_run_is_recorded_and_promoted(
    sqlite_store: Store, workspace: Workspace, flaky_kind: dict[str, bool]
) -> None:
    workspace.models_dir.mkdir(parents=True)
    job = run_job(sqlite_store, workspace, "test_flaky", {"score": 3})
    assert job.state == "done" and job.progress == 1.0 and job.metrics == {"score": 3}
    assert job.started_at is not None and job.finished_at is not None
    served = current_artifact(workspace, "test_flaky")
    assert served is not None and served.name == job.job_id
    assert json.loads((served / "model.json").read_text()) == {"score": 3}
    assert jobs.last_runs(sqlite_store)["test_flaky"] == job


def test_a_failed_run_leaves_the_previous_model_in_service(
    sqlite_store: Store, workspace: Workspace, flaky_kind: dict[str, bool]
) -> None:
    workspace.models_dir.mkdir(parents=True)
    good = run_job(sqlite_store, workspace, "test_flaky", {"score": 1})
    flaky_kind["fail"] = True
    bad = run_job(sqlite_store, workspace, "test_flaky", {"score": 2})
    assert bad.state == "failed"
    assert bad.error == "RuntimeError: the data had no orders"
    assert bad.metrics is None and bad.artifact is None
    served = current_artifact(workspace, "test_flaky")
    assert served is not None and served.name == good.job_id
    assert not (workspace.models_dir / "test_flaky" / bad.job_id).exists()
    assert jobs.last_runs(sqlite_store)["test_flaky"] == good


def test_the_runner_works_through_a_queue_in_the_background(
    sqlite_store: Store, workspace: Workspace, flaky_kind: dict[str, bool]
) -> None:
    workspace.models_dir.mkdir(parents=True)
    runner = JobRunner(sqlite_store, workspace)
    submitted = [runner.submit("test_flaky", {"score": i}) for i in range(3)]
    assert all(j.state == "queued" for j in submitted)
    runner.wait_idle()
    runner.stop()
    finished = [jobs.get_job(sqlite_store, j.job_id) for j in submitted]
    assert [j.state for j in finished if j] == ["done"] * 3
    assert [j.metrics for j in jobs.list_jobs(sqlite_store, kind="test_flaky")] == [
        {"score": 2},
        {"score": 1},
        {"score": 0},
    ]


def test_jobs_a_stopped_process_left_are_marked_failed(
    sqlite_store: Store, flaky_kind: dict[str, bool]
) -> None:
    queued = jobs.create_job(sqlite_store, "test_flaky")
    assert jobs.fail_interrupted(sqlite_store) == 1
    found = jobs.get_job(sqlite_store, queued.job_id)
    assert found is not None and found.state == "failed" and "interrupted" in (found.error or "")


def test_unknown_kind_is_a_clear_error(sqlite_store: Store) -> None:
    with pytest.raises(ConfigError, match=r"unknown job kind 'nope'; known kinds: .*figures"):
        jobs.create_job(sqlite_store, "nope")
