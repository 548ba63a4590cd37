"""Choosing the estimator by a simulation on the log itself."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.ope import LoggedFeedback, select_estimator
from tests.ope.conftest import synthetic_bandit


def test_a_small_log_with_a_fitting_model_takes_a_model_based_estimator() -> None:
    # 20 actions shown uniformly, described by two features that set their click rate; a
    # policy that nearly always shows one of them. Weights of about 19 make IPW noisy,
    # while a reward model on the features pools what every action's rounds say.
    rng = np.random.default_rng(3)
    n, n_actions = 3_000, 20
    features = rng.normal(size=(n_actions, 2))
    rates = 1 / (1 + np.exp(2.2 - features @ np.array([0.8, -0.5])))
    action = rng.integers(0, n_actions, size=n)
    log = LoggedFeedback(
        action=action,
        position=np.zeros(n, dtype=np.int64),
        reward=(rng.random(n) < rates[action]).astype(float),
        propensity=np.full(n, 1 / n_actions),
        n_actions=n_actions,
        action_context=features,
    )
    target = np.full(n_actions, 0.05 / (n_actions - 1))
    target[3] = 0.95
    # A simulated world close to what the model can express (spread 0.2): DM's family wins.
    near = select_estimator(log, target[None, :, None], reps=10, seed=1, spread=0.2)
    assert near.chosen in ("dm", "switch-dr", "dros")
    assert near.rmse[near.chosen] < 0.7 * near.rmse["ipw"]
    assert set(near.rmse) == {"ipw", "snipw", "dm", "dr", "switch-dr", "dros"}
    # Far from it (spread 0.5: action 3's own factor is out of the model's reach), DM is
    # the worst of the table and is not chosen.
    far = select_estimator(log, target[None, :, None], reps=10, seed=1, spread=0.5)
    assert far.chosen != "dm" and far.rmse["dm"] == max(far.rmse.values())


def test_a_model_blind_to_the_actions_loses_to_the_unbiased_estimators() -> None:
    # Every action looks alike to the reward model (one constant feature), so DM reads the
    # logging policy's value; with a large log the reweighting estimators are better.
    log, dist, _, _ = synthetic_bandit(40_000, seed=4)
    blind = dataclasses.replace(log, action_context=np.zeros((log.n_actions, 1)))
    chosen = select_estimator(blind, dist, reps=8, seed=2, spread=0.8)
    # DR-like estimators (switch-DR and DRos tuned towards DR) or the reweighting ones.
    assert chosen.chosen != "dm"
    assert chosen.rmse["dm"] > 5 * chosen.rmse[chosen.chosen]


def test_the_same_seed_gives_the_same_choice_and_errors() -> None:
    log, dist, _, _ = synthetic_bandit(1_000, seed=5)
    one = select_estimator(log, dist, ["ipw", "dm"], reps=3, seed=9)
    two = select_estimator(log, dist, ["ipw", "dm"], reps=3, seed=9)
    assert one == two
    assert one.to_dict()["candidates"][0]["estimator"] == one.chosen


def test_progress_is_reported_per_draw() -> None:
    log, dist, _, _ = synthetic_bandit(800, seed=6)
    seen: list[tuple[int, int]] = []
    select_estimator(log, dist, ["ipw"], reps=3, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"candidates": []}, "at least one candidate"),
        ({"reps": 1}, "at least 2 draws"),
        ({"spread": -0.1}, "spread must be >= 0"),
        ({"candidates": ["ipw", "magic"]}, "unknown estimator"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    log, dist, _, _ = synthetic_bandit(500, seed=7)
    with pytest.raises(ConfigError, match=message):
        select_estimator(log, dist, **kwargs)  # type: ignore[arg-type]


def test_a_log_without_any_reward_is_refused() -> None:
    log, dist, _, _ = synthetic_bandit(500, seed=8)
    empty = dataclasses.replace(log, reward=np.zeros(log.n_rounds))
    with pytest.raises(ConfigError, match="no reward at all"):
        select_estimator(empty, dist)
