"""Artifact checksums: a damaged model is detected and the previous one keeps serving.

Each run goes through the real job runner (``run_job``: the artifact saved,
its manifest written, the run promoted); the ``pricing`` kind is pointed at
the synthetic panel's real analysis so that a run takes milliseconds instead
of fitting on a store. Then a file is damaged on disk, as a failing disk, an
interrupted copy or a careless hand would, and the service and the CLI are
asked for the analysis.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shopkeeper import jobs
from shopkeeper.access import create_key
from shopkeeper.cli import app as cli
from shopkeeper.errors import ArtifactError
from shopkeeper.jobs import (
    KEPT_PREVIOUS,
    MANIFEST,
    JobContext,
    JobKind,
    JobOutcome,
    current_artifact,
    run_job,
    verify_artifact,
)
from shopkeeper.pricing import PricingAnalysis, PricingSettings, analyse
from shopkeeper.pricing._analysis import ARTIFACT
from shopkeeper.service import create_app
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.pricing import synthetic
from tests.reliability.harness import DAMAGE, NOTES, flip_a_byte, truncate
from tests.service.artifacts import new_workspace
from tests.service.conftest import auth, error_body, ok

KIND = "pricing"
PATH = "/api/v1/pricing/elasticities"


@pytest.fixture(scope="module")
def analysis() -> PricingAnalysis:
    panel = synthetic.panel(stores=12, weeks=16, slope=0.5)
    return analyse(None, PricingSettings(folds=2), panel=panel)  # type: ignore[arg-type]


@pytest.fixture
def pricing_runs(analysis: PricingAnalysis) -> Iterator[None]:
    """The ``pricing`` job kind saving the synthetic analysis (and a note beside it)."""
    real = jobs.job_kind(KIND)

    def run(ctx: JobContext) -> JobOutcome:
        analysis.save(ctx.artifact_dir / ARTIFACT)
        (ctx.artifact_dir / NOTES).write_text("a second file, checked as well\n")
        return JobOutcome({"products": len(analysis.elasticities.own)})

    jobs._KINDS[KIND] = JobKind(KIND, real.description, run)
    yield
    jobs._KINDS[KIND] = real


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.delenv("SHOPKEEPER_DATABASE_URL", raising=False)
    return new_workspace(tmp_path / "ws")


def train(store: Store, workspace: Workspace) -> str:
    job = run_job(store, workspace, KIND)
    assert job.state == "done", job.error
    return job.job_id


def artifact(workspace: Workspace, job_id: str) -> Path:
    return workspace.models_dir / KIND / job_id / ARTIFACT


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reader(store: Store) -> dict[str, str]:
    return auth(create_key(store, "artifact reader", "reader")[1])


def elasticity_cli(workspace: Workspace) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(cli, ["pricing", "elasticity", "--json", "-w", str(workspace.root)])
    return result.exit_code, json.loads(result.stdout)


def test_a_finished_run_records_the_sha256_of_each_file(
    sqlite_store: Store, workspace: Workspace, pricing_runs: None
) -> None:
    first = train(sqlite_store, workspace)
    folder = workspace.models_dir / KIND / first
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["algorithm"] == "sha256"
    assert set(manifest["files"]) == {ARTIFACT, NOTES}
    for name, entry in manifest["files"].items():
        data = (folder / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    assert verify_artifact(folder) is True
    # Each promotion remembers the ones before it, newest first, a few of them.
    runs = [first] + [train(sqlite_store, workspace) for _ in range(KEPT_PREVIOUS + 1)]
    pointer = json.loads((workspace.models_dir / KIND / "current.json").read_text())
    assert pointer["job_id"] == runs[-1]
    assert pointer["previous"] == runs[-2::-1][:KEPT_PREVIOUS]


@pytest.mark.parametrize("damage", ["a flipped byte", "truncated", "deleted"])
def test_a_damaged_artifact_is_refused_with_the_file_and_both_digests(
    damage: str, sqlite_store: Store, workspace: Workspace, pricing_runs: None
) -> None:
    path = artifact(workspace, train(sqlite_store, workspace))
    expected = sha256(path)
    DAMAGE[damage](path)
    with pytest.raises(ArtifactError) as caught:
        PricingAnalysis.load(path)
    error = caught.value
    assert error.path == str(path) and error.expected == expected
    assert str(path) in str(error) and expected in str(error)
    assert "shopkeeper train pricing" in str(error)
    if damage == "deleted":
        assert error.actual is None and "missing" in str(error)
    else:
        assert error.actual == sha256(path) and error.actual in str(error)
        assert ("truncated" if damage == "truncated" else "corrupted") in str(error)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_the_previous_run_serves_when_the_current_artifact_is_damaged(
    damage: str,
    sqlite_store: Store,
    workspace: Workspace,
    pricing_runs: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = train(sqlite_store, workspace)
    second = train(sqlite_store, workspace)
    bad = artifact(workspace, second)
    DAMAGE[damage](bad)
    headers = reader(sqlite_store)
    with (
        caplog.at_level(logging.WARNING, logger="shopkeeper.jobs"),
        TestClient(create_app(workspace, store=sqlite_store)) as client,
    ):
        assert ok(client.get(PATH, headers=headers))["job"] == first
        assert ok(client.get(PATH, headers=headers))["job"] == first  # kept, not re-checked
        # A sound new run is served from the next request.
        third = train(sqlite_store, workspace)
        assert ok(client.get(PATH, headers=headers))["job"] == third
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(str(bad.parent) in m and second in m for m in warnings), warnings
    assert any(f"earlier pricing artifact of job {first}" in m for m in warnings), warnings


def test_the_cli_falls_back_to_the_previous_run_too(
    sqlite_store: Store, workspace: Workspace, pricing_runs: None
) -> None:
    first = train(sqlite_store, workspace)
    truncate(artifact(workspace, train(sqlite_store, workspace)))
    code, answer = elasticity_cli(workspace)
    assert code == 0 and answer["ok"] is True and answer["products"]
    assert current_artifact(workspace, KIND) == artifact(workspace, first).parent


def test_with_no_sound_run_the_api_says_503_and_the_cli_names_file_and_digests(
    sqlite_store: Store, workspace: Workspace, pricing_runs: None
) -> None:
    first = artifact(workspace, train(sqlite_store, workspace))
    second = artifact(workspace, train(sqlite_store, workspace))
    expected = sha256(second)
    flip_a_byte(second)
    shutil.rmtree(first.parent)  # the run before it is gone as well
    with TestClient(create_app(workspace, store=sqlite_store)) as client:
        for _ in range(2):  # the second time from the remembered failure
            error = error_body(client.get(PATH, headers=reader(sqlite_store)), 503, "unavailable")
            assert "integrity check" in error["message"]
            assert "shopkeeper train pricing" in error["message"]
            assert str(workspace.root) not in error["message"]  # no server paths to clients
    code, answer = elasticity_cli(workspace)
    assert code == 2 and answer["ok"] is False
    message = str(answer["error"])
    assert str(second) in message and expected in message and sha256(second) in message
    assert "no earlier pricing artifact can be served" in message


def test_an_artifact_from_before_checksums_still_loads_unverified(
    sqlite_store: Store,
    workspace: Workspace,
    analysis: PricingAnalysis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    folder = workspace.models_dir / KIND / "20240101-000000-legacy"
    folder.mkdir(parents=True)
    analysis.save(folder / ARTIFACT)  # as before: no manifest beside it
    (folder.parent / "current.json").write_text(json.dumps({"job_id": folder.name}))
    with caplog.at_level(logging.INFO, logger="shopkeeper.jobs"):
        assert current_artifact(workspace, KIND) == folder
        assert verify_artifact(folder) is False
        assert PricingAnalysis.load(folder / ARTIFACT).frequency == analysis.frequency
    assert any(
        "unverified" in r.getMessage() and str(folder) in r.getMessage() for r in caplog.records
    )
    with TestClient(create_app(workspace, store=sqlite_store)) as client:
        assert ok(client.get(PATH, headers=reader(sqlite_store)))["job"] == folder.name
    code, answer = elasticity_cli(workspace)
    assert code == 0 and answer["ok"] is True


def test_a_new_run_after_a_legacy_one_falls_back_to_it(
    sqlite_store: Store, workspace: Workspace, analysis: PricingAnalysis, pricing_runs: None
) -> None:
    legacy = workspace.models_dir / KIND / "20240101-000000-legacy"
    legacy.mkdir(parents=True)
    analysis.save(legacy / ARTIFACT)
    (legacy.parent / "current.json").write_text(json.dumps({"job_id": legacy.name}))
    flip_a_byte(artifact(workspace, train(sqlite_store, workspace)))
    assert current_artifact(workspace, KIND) == legacy


def test_a_loaded_model_keeps_serving_when_its_file_is_damaged_later(
    sqlite_store: Store, workspace: Workspace, pricing_runs: None
) -> None:
    # The check runs when a run is loaded, not on every request: what passed it
    # serves from memory, and the damage is caught when the artifact is loaded next.
    only = train(sqlite_store, workspace)
    headers = reader(sqlite_store)
    with TestClient(create_app(workspace, store=sqlite_store)) as client:
        assert ok(client.get(PATH, headers=headers))["job"] == only
        flip_a_byte(artifact(workspace, only))
        assert ok(client.get(PATH, headers=headers))["job"] == only
    with pytest.raises(ArtifactError):
        current_artifact(workspace, KIND)
