"""The bandit policies: one suite every policy passes, then each one's own promises."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest

from shopkeeper.decide._bandits import (
    UCB1,
    Bandit,
    BernoulliThompson,
    EpsilonGreedy,
    ExplorationCap,
    GaussianThompson,
    LinearThompson,
    LinUCB,
    LogisticThompson,
)
from shopkeeper.decide._guardrails import PriceGuardrails
from shopkeeper.decide._policy import Policy
from shopkeeper.errors import ConfigError, ShopkeeperError

ARMS = [f"arm-{i}" for i in range(5)]
CHANCE = np.array([0.2, 0.3, 0.45, 0.6, 0.35])  # arm 3 is best
BEST = 3
CONTEXT = np.array([1.0, 0.5])

FACTORIES: dict[str, Callable[[], Policy]] = {
    "bernoulli-thompson": lambda: BernoulliThompson(ARMS),
    "gaussian-thompson": lambda: GaussianThompson(ARMS, prior_mean=0.5, prior_sd=0.5),
    "gaussian-thompson-known": lambda: GaussianThompson(ARMS, prior_sd=1.0, noise_sd=0.5),
    "ucb": lambda: UCB1(ARMS),
    "epsilon-greedy": lambda: EpsilonGreedy(ARMS, epsilon=0.1),
    "linucb": lambda: LinUCB(ARMS, 2, alpha=1.0),
    "linear-thompson": lambda: LinearThompson(ARMS, 2, noise_sd=0.5),
    "logistic-thompson": lambda: LogisticThompson(ARMS, 2),
    "cap-thompson": lambda: ExplorationCap(BernoulliThompson(ARMS), 0.2),
    "cap-ucb": lambda: ExplorationCap(UCB1(ARMS), 0.3),
}


def _context(policy: Policy) -> np.ndarray | None:
    return CONTEXT if policy.n_features else None


def _train(policy: Policy, rounds: int, seed: int = 0) -> np.ndarray:
    """``rounds`` Bernoulli pulls of CHANCE; returns the arms pulled."""
    rng = np.random.default_rng(seed)
    x = _context(policy)
    pulled = np.empty(rounds, dtype=int)
    for t in range(rounds):
        a = policy.choose(x, rng).action
        pulled[t] = a
        policy.update(a, float(rng.random() < CHANCE[a]), x)
    return pulled


@pytest.fixture(params=sorted(FACTORIES))
def make(request: pytest.FixtureRequest) -> Callable[[], Policy]:
    return FACTORIES[request.param]


def test_concentrates_on_the_best_arm(make: Callable[[], Policy]) -> None:
    policy = make()
    # Thompson variants estimate a probability at every choose: keep them cheap here.
    inner = policy.inner if isinstance(policy, ExplorationCap) else policy
    if isinstance(inner, Bandit):
        inner.draws = 50
    pulled = _train(policy, 1500)
    share = float(np.mean(pulled[750:] == BEST))
    # A uniform policy puts 20% on the best arm; each of these puts far more.
    assert share > 0.55, share
    assert int(np.argmax(policy.means(_context(policy)))) == BEST


def test_probabilities_sum_to_one_and_match_choices(make: Callable[[], Policy]) -> None:
    policy = make()
    _train(policy, 60, seed=1)
    x = _context(policy)
    table = policy.probabilities(x, 2, n_draws=20_000)
    assert table.shape == (len(ARMS), 2)
    assert np.allclose(table.sum(axis=0), 1.0)
    assert np.all(table >= 0)
    assert np.all(table.sum(axis=1) <= 1.0 + 1e-9)

    rng = np.random.default_rng(2)
    n = 2_000
    counts = np.zeros_like(table)
    for _ in range(n):
        for j, c in enumerate(policy.choose_slate(x, 2, rng)):
            counts[c.action, j] += 1
    freq = counts / n
    # Four standard errors of the empirical share, plus the table's own MC error.
    tol = 4 * np.sqrt(table * (1 - table) / n) + 4 * np.sqrt(table * (1 - table) / 20_000) + 0.01
    assert np.all(np.abs(freq - table) <= tol), (freq, table)


def test_slates_are_distinct_and_carry_their_table_entry(make: Callable[[], Policy]) -> None:
    policy = make()
    _train(policy, 40, seed=3)
    x = _context(policy)
    rng = np.random.default_rng(4)
    inner = policy.inner if isinstance(policy, ExplorationCap) else policy
    assert isinstance(inner, Bandit)
    draws = inner.draws
    table = policy.probabilities(x, 3, n_draws=draws)
    for _ in range(50):
        slate = policy.choose_slate(x, 3, rng)
        actions = [c.action for c in slate]
        assert len(set(actions)) == 3
        for j, c in enumerate(slate):
            assert 0 < c.probability <= 1
            assert c.probability == pytest.approx(max(table[c.action, j], 1 / draws), abs=1e-12)


def test_state_round_trips_exactly(make: Callable[[], Policy]) -> None:
    policy = make()
    _train(policy, 80, seed=5)
    state = json.loads(json.dumps(policy.state()))
    again = Policy.from_state(state)
    assert type(again) is type(policy)
    assert again.state() == policy.state()
    assert again.actions == tuple(ARMS)
    x = _context(policy)
    assert np.array_equal(again.probabilities(x, 2), policy.probabilities(x, 2))
    assert np.array_equal(again.means(x), policy.means(x))
    a, b = np.random.default_rng(6), np.random.default_rng(6)
    for _ in range(20):
        assert again.choose_slate(x, 2, a) == policy.choose_slate(x, 2, b)
    # Learning goes on the same way after the reload.
    policy.update(1, 1.0, x)
    again.update(1, 1.0, x)
    assert np.array_equal(again.probabilities(x, 1), policy.probabilities(x, 1))


def test_state_holds_kind_actions_and_settings() -> None:
    state = BernoulliThompson(ARMS, alpha=[1, 2, 3, 4, 5], values=2.0, seed=9).state()
    assert state["kind"] == "bernoulli-thompson"
    assert state["actions"] == ARMS
    assert state["params"]["alpha"] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert state["seed"] == 9
    assert state["counts"] == [0] * 5
    assert {"bernoulli-thompson", "linucb", "exploration-cap"} <= set(Policy.kinds())


def test_same_state_gives_the_same_table() -> None:
    policy = BernoulliThompson(ARMS)
    _train(policy, 50)
    assert np.array_equal(policy.probabilities(None, 3), policy.probabilities(None, 3))


@pytest.mark.parametrize(
    "policy",
    [GaussianThompson(ARMS, prior_sd=1.0), UCB1(ARMS, scale=2.0), EpsilonGreedy(ARMS)],
    ids=lambda p: p.kind,
)
def test_gaussian_rewards(policy: Policy) -> None:
    means = np.array([1.0, 1.5, 0.5, 2.0, 1.2])
    rng = np.random.default_rng(7)
    pulled = []
    for _ in range(1200):
        a = policy.choose(None, rng).action
        pulled.append(a)
        policy.update(a, float(rng.normal(means[a], 1.0)))
    assert np.mean(np.array(pulled[600:]) == BEST) > 0.6


def test_epsilon_greedy_probabilities_are_exact() -> None:
    policy = EpsilonGreedy(ARMS, epsilon=0.2)
    for a, r in [(0, 0.1), (1, 0.9), (2, 0.9), (3, 0.3), (4, 0.0)]:
        policy.update(a, r)
    table = policy.probabilities(None, 2)
    # Arms 1 and 2 tie for best: they share the first two positions.
    expected = np.full((5, 2), 0.2 / 5)
    expected[[1, 2], :] += 0.8 / 2
    assert np.allclose(table, expected)


def test_ucb_tries_every_arm_first_with_exact_ties() -> None:
    policy = UCB1(ARMS)
    assert np.allclose(policy.probabilities(None, 1), 1 / 5)
    policy.update(0, 1.0)
    assert np.allclose(policy.probabilities(None, 1)[:, 0], [0, 0.25, 0.25, 0.25, 0.25])
    # A deterministic policy: the logged chance is 1 once no tie is left.
    for a in range(1, 5):
        policy.update(a, 0.0)
    choice = policy.choose(None, np.random.default_rng(0))
    assert choice.action == 0 and choice.probability == 1.0


def test_thompson_uses_values_and_prior() -> None:
    # Arm 0 succeeds more often but arm 1 pays three times as much.
    policy = BernoulliThompson(["a", "b"], alpha=[30, 20], beta=[70, 80], values=[1.0, 3.0])
    assert np.allclose(policy.means(), [0.3, 0.6])
    assert policy.probabilities(None)[1, 0] > 0.95
    with pytest.raises(ConfigError, match=r"reward 3\.5 for action 'b': must lie between 0 and 3"):
        policy.update(1, 3.5)


def _contextual_run(
    policy: Policy, reward: Callable[[int, np.ndarray, np.random.Generator], float]
):
    rng = np.random.default_rng(11)
    for _ in range(1500):
        x = np.array([1.0, rng.choice([-1.0, 1.0])])
        a = policy.choose(x, rng).action
        policy.update(a, reward(a, x, rng), x)
    shares = {}
    for s in (-1.0, 1.0):
        x = np.array([1.0, s])
        picks = [policy.choose(x, rng).action for _ in range(200)]
        shares[s] = np.bincount(picks, minlength=3) / 200
    return shares


# The planted effect: arm 0 is best when the feature is -1, arm 2 when it is +1.
THETA = np.array([[0.5, -0.3], [0.4, 0.0], [0.5, 0.3]])


@pytest.mark.parametrize(
    "make_linear",
    [
        lambda: LinUCB(["a", "b", "c"], 2, alpha=0.5),
        lambda: LinearThompson(["a", "b", "c"], 2, noise_sd=0.3, draws=50),
    ],
    ids=["linucb", "linear-thompson"],
)
def test_linear_policies_learn_a_context_effect(make_linear: Callable[[], Policy]) -> None:
    policy = make_linear()
    shares = _contextual_run(policy, lambda a, x, rng: float(THETA[a] @ x + rng.normal(0, 0.3)))
    assert shares[-1.0][0] > 0.8 and shares[1.0][2] > 0.8, shares
    assert np.argmax(policy.means(np.array([1.0, 1.0]))) == 2


def test_logistic_thompson_learns_a_planted_logistic() -> None:
    policy = LogisticThompson(["a", "b", "c"], 2, draws=50)
    logits = np.array([[-1.0, -1.0], [-1.2, 0.0], [-1.0, 1.0]])

    def reward(a: int, x: np.ndarray, rng: np.random.Generator) -> float:
        return float(rng.random() < 1 / (1 + np.exp(-(logits[a] @ x))))

    shares = _contextual_run(policy, reward)
    assert shares[-1.0][0] > 0.75 and shares[1.0][2] > 0.75, shares
    # Arm c is pulled almost only where the feature is +1, so only its logit
    # there is identified: it is near the planted one.
    x = np.array([1.0, 1.0])
    assert abs(policy.m[2] @ x - logits[2] @ x) < 0.3
    assert policy.means(x)[2] == pytest.approx(0.5, abs=0.08)


def test_logistic_update_matches_the_exact_mode() -> None:
    # One outcome on a fresh prior: the update's mean is the mode of prior x likelihood.
    policy = LogisticThompson(["a"], 2, prior_var=2.0)
    x = np.array([1.0, 0.5])
    policy.update(0, 1.0, x)
    w = policy.m[0]
    grad = w / 2.0 - (1 - 1 / (1 + np.exp(-(w @ x)))) * x
    assert np.allclose(grad, 0.0, atol=1e-9)


def test_exploration_cap_mixture_is_exact() -> None:
    inner = UCB1(ARMS)
    for a, r in enumerate([0.2, 0.9, 0.4, 0.9, 0.1]):
        inner.update(a, r)
    inner.update(1, 0.5)  # arm 3 now has the best mean; UCB's choice need not be it
    capped = ExplorationCap.from_guardrails(inner, PriceGuardrails(exploration_share=0.25))
    greedy = np.zeros((5, 1))
    greedy[int(np.argmax(inner.means())), 0] = 1.0
    expected = 0.75 * greedy + 0.25 * inner.probabilities(None, 1)
    assert np.allclose(capped.probabilities(None, 1), expected)
    rng = np.random.default_rng(0)
    picks = [capped.choose(None, rng) for _ in range(4000)]
    freq = np.bincount([c.action for c in picks], minlength=5) / 4000
    assert np.allclose(freq, expected[:, 0], atol=0.03)
    for c in picks[:20]:
        assert c.probability == pytest.approx(expected[c.action, 0])


def test_exploration_cap_bounds_exploration() -> None:
    capped = ExplorationCap(BernoulliThompson(ARMS, alpha=[1, 1, 1, 50, 1], beta=[1] * 5), 0.1)
    table = capped.probabilities(None, 1)
    # The best by means is arm 3: it gets at least 90% whatever the inner policy does.
    assert table[BEST, 0] >= 0.9
    assert np.isclose(table.sum(), 1.0)
    with pytest.raises(ConfigError, match="share"):
        ExplorationCap(UCB1(ARMS), 1.5)


@pytest.mark.parametrize("kind", sorted(FACTORIES))
def test_bad_input_is_refused_clearly(kind: str) -> None:
    policy = FACTORIES[kind]()
    x = _context(policy)
    with pytest.raises(ConfigError, match=r"action 7: must be an index from 0 to 4"):
        policy.update(7, 1.0, x)
    with pytest.raises(ConfigError, match=r"reward nan: must be a finite number"):
        policy.update(0, float("nan"), x)
    with pytest.raises(ConfigError, match=r"positions=6: must be from 1 to the number of actions"):
        policy.probabilities(x, 6)
    if policy.n_features:
        with pytest.raises(ConfigError, match=r"context of shape \(3,\).*needs a flat vector of 2"):
            policy.choose(np.ones(3), np.random.default_rng(0))
        with pytest.raises(ConfigError, match="needs a context of 2 features, got none"):
            policy.means(None)
    else:
        with pytest.raises(ShopkeeperError, match="takes no context"):
            policy.choose(np.ones(2), np.random.default_rng(0))


def test_bad_settings_and_states_are_refused() -> None:
    with pytest.raises(ConfigError, match="appears twice"):
        UCB1(["a", "a"])
    with pytest.raises(ConfigError, match=r"alpha has 2 values: give one number, or one per"):
        BernoulliThompson(ARMS, alpha=[1, 2])
    with pytest.raises(ConfigError, match=r"prior_sd=0: must be a finite number above 0"):
        GaussianThompson(ARMS, prior_sd=0)
    with pytest.raises(ConfigError, match="unknown policy kind 'nope'"):
        Policy.from_state({"kind": "nope"})
    state = UCB1(ARMS).state()
    state["stats"]["sums"] = [0.0]
    with pytest.raises(ConfigError, match="sums has shape"):
        Policy.from_state(state)
    del state["stats"]
    with pytest.raises(ConfigError, match="incomplete"):
        Policy.from_state(state)
