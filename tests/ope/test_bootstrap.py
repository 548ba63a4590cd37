"""Bootstrap intervals: they cover the truth in simulation, and refitting widens DM's."""

from __future__ import annotations

import numpy as np

from shopkeeper.ope import RewardModel, evaluate_policy
from tests.ope.conftest import synthetic_bandit


def test_intervals_cover_the_true_value() -> None:
    hits = {"ipw": 0, "snipw": 0}
    reps = 40
    for seed in range(reps):
        log, dist, truth, _ = synthetic_bandit(800, 100 + seed)
        result = evaluate_policy(log, dist, ["ipw", "snipw"], n_bootstrap=200, seed=seed)
        for name in hits:
            e = result.get(name)
            assert e.lower is not None and e.upper is not None
            hits[name] += e.lower <= truth <= e.upper
    # 95% intervals: 40 draws give at least 33 hits unless coverage is poor.
    assert all(h >= 33 for h in hits.values()), hits


def test_refitting_widens_the_dm_interval() -> None:
    log, dist, truth, _ = synthetic_bandit(1500, 7)
    spec = RewardModel("logistic", n_folds=2)
    fixed = evaluate_policy(log, dist, ["dm"], reward_model=spec, n_bootstrap=30, refit=False)
    refit = evaluate_policy(log, dist, ["dm"], reward_model=spec, n_bootstrap=30, seed=1)
    f, r = fixed.get("dm"), refit.get("dm")
    assert refit.refit and not fixed.refit
    assert f.value == r.value
    assert f.lower is not None and f.upper is not None
    assert r.lower is not None and r.upper is not None
    assert (r.upper - r.lower) > 3 * (f.upper - f.lower)
    assert r.lower <= truth <= r.upper
    assert np.isfinite(r.std_error or np.nan)
