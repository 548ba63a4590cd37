"""The shared suite: every recommender honours the same contract.

Each model is fitted on the planted shop (two tastes) and must: return one
finite score per item for the users asked, in their order; be deterministic;
rank the customer's own taste above the other one (personal models); give the
same list to everyone (non-personal ones); explain an item in one line;
survive a pickle round trip with identical scores; and refuse scoring data of
another item universe.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.recommend import (
    ALS,
    EASE,
    ContentBased,
    Hybrid,
    Interactions,
    ItemKNN,
    Popularity,
    Recommender,
    RepeatBuyer,
    SessionTransitions,
    Trending,
    top_n,
)
from tests.recommend.conftest import BREAKFAST, CATALOG, ELECTRONICS


def _models() -> list[Recommender]:
    return [
        Popularity(),
        Popularity(half_life_days=14),
        Trending(window_days=7, baseline_days=21),
        RepeatBuyer(half_life=None, neighbours=0),
        RepeatBuyer(half_life=3.0, neighbours=10, alpha=0.7),
        ItemKNN(k=20, weighting="cosine"),
        ItemKNN(k=20, weighting="bm25", half_life=3.0),
        ALS(factors=8, iterations=10, alpha=10.0),
        EASE(l2=10.0),
        EASE(l2=10.0, half_life=3.0),
        ContentBased(CATALOG, half_life=3.0),
        SessionTransitions(window=2),
        Hybrid([RepeatBuyer(half_life=3.0, neighbours=10), EASE(l2=10.0)], [1.0, 0.5]),
    ]


MODELS = _models()
IDS = [f"{m.name}-{i}" for i, m in enumerate(MODELS)]
PERSONAL = [i for i, m in enumerate(MODELS) if m.personal]
NON_PERSONAL = [i for i, m in enumerate(MODELS) if not m.personal]


@pytest.fixture(params=range(len(MODELS)), ids=IDS)
def fitted(request: pytest.FixtureRequest, planted: Interactions) -> Recommender:
    return _models()[request.param].fit(planted)


@pytest.fixture(params=PERSONAL, ids=[IDS[i] for i in PERSONAL])
def personal(request: pytest.FixtureRequest, planted: Interactions) -> Recommender:
    return _models()[request.param].fit(planted)


@pytest.fixture(params=NON_PERSONAL, ids=[IDS[i] for i in NON_PERSONAL])
def non_personal(request: pytest.FixtureRequest, planted: Interactions) -> Recommender:
    return _models()[request.param].fit(planted)


def test_scores_have_one_finite_value_per_item_in_user_order(
    fitted: Recommender, planted: Interactions
) -> None:
    users = np.array([3, 25, 0])
    scores = fitted.score(planted, users)
    assert scores.shape == (3, planted.n_items)
    assert np.isfinite(scores).all()
    one = fitted.score(planted, np.array([25]))
    np.testing.assert_allclose(scores[1], one[0], rtol=1e-5, atol=1e-6)


def test_scoring_is_deterministic(fitted: Recommender, planted: Interactions) -> None:
    np.testing.assert_array_equal(fitted.score(planted), fitted.score(planted))


def test_personal_models_rank_the_customers_own_taste_first(
    personal: Recommender, planted: Interactions
) -> None:
    lists = top_n(personal.score(planted, np.array([2, 30])), 3)
    breakfast = set(planted.item_codes(BREAKFAST).tolist())
    electronics = set(planted.item_codes(ELECTRONICS).tolist())
    assert set(lists[0].tolist()) <= breakfast | {planted.item_codes(["new-oats"])[0]}
    assert set(lists[1].tolist()) <= electronics


def test_non_personal_models_give_everyone_the_same_list(
    non_personal: Recommender, planted: Interactions
) -> None:
    assert len(PERSONAL) >= 8 and len(NON_PERSONAL) >= 3  # both kinds are covered
    scores = non_personal.score(planted, np.array([2, 30]))
    np.testing.assert_array_equal(scores[0], scores[1])


def test_explain_is_one_line(fitted: Recommender, planted: Interactions) -> None:
    item = int(top_n(fitted.score(planted, np.array([2])), 1)[0, 0])
    text = fitted.explain(planted, 2, item)
    assert isinstance(text, str) and text and "\n" not in text and len(text) < 200


def test_pickle_round_trip_keeps_scores(fitted: Recommender, planted: Interactions) -> None:
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(again.score(planted), fitted.score(planted), rtol=1e-6)


def test_scoring_other_item_universe_is_refused(fitted: Recommender, planted: Interactions) -> None:
    other = planted.with_items(planted.items[:5])
    with pytest.raises(ConfigError, match="items"):
        fitted.score(other)


def test_unfitted_model_cannot_score(planted: Interactions) -> None:
    with pytest.raises(ConfigError, match="fit"):
        EASE().score(planted)


@pytest.mark.parametrize("dense_limit", [10**8, 0], ids=["dense", "sparse"])
def test_ease_dual_form_equals_item_space_form(
    dense_limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shopkeeper.recommend._collab.DENSE_LIMIT", dense_limit)
    # Fewer users than items takes the Woodbury (user-space) route; the
    # transposed problem takes the item-space one. Both must give h B.
    rng = np.random.default_rng(1)
    dense = (rng.random((12, 30)) < 0.3).astype(float)
    rows, cols = np.nonzero(dense)
    frame = pd.DataFrame(
        {"customer_id": rows, "product_id": cols, "at": pd.Timestamp("2024-01-01")}
    )
    data = Interactions.from_frame(frame, items=[str(i) for i in range(30)])
    dual = EASE(l2=5.0).fit(data).score(data)
    x = data.binary().toarray()
    p = np.linalg.inv(x.T @ x + 5.0 * np.eye(30))
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    np.testing.assert_allclose(dual, x @ b, atol=1e-4)


def test_als_folds_in_new_events_without_retraining(planted: Interactions) -> None:
    model = ALS(factors=8, iterations=10, alpha=10.0).fit(planted)
    # A new customer who only bought electronics, unknown to the fit.
    frame = pd.DataFrame(
        {
            "customer_id": ["new"] * 3,
            "product_id": ELECTRONICS[:3],
            "at": pd.Timestamp("2024-03-01"),
        }
    )
    fresh = Interactions.from_frame(frame, items=planted.items)
    top = top_n(model.score(fresh), 2, exclude=fresh.binary())  # the two left
    assert set(top[0].tolist()) <= set(planted.item_codes(ELECTRONICS).tolist())


def test_repeat_buyer_prefers_recent_purchases() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["a"] * 4,
            "product_id": ["old", "old", "old", "new"],
            "at": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15", "2024-03-01"]),
            "order": ["1", "2", "3", "4"],
        }
    )
    data = Interactions.from_frame(frame, occasion="order")
    counts = RepeatBuyer(half_life=None, neighbours=0).fit(data).score(data)[0]
    recent = RepeatBuyer(half_life=0.5, neighbours=0).fit(data).score(data)[0]
    old, new = data.item_codes(["old", "new"])
    assert counts[old] > counts[new]  # three orders beat one without decay
    assert recent[new] > recent[old]  # the latest order wins with a short half-life


def test_repeat_buyer_cycles_damp_what_is_not_due_yet() -> None:
    # "weekly" is bought every 7 days, "monthly" every 28; the customer's next
    # visit is expected 7 days after the last one, when weekly is due and the
    # monthly item (bought at that last visit) is not.
    days = [0, 7, 14, 21, 28]
    frame = pd.DataFrame(
        {
            "customer_id": ["a"] * 7,
            "product_id": ["weekly"] * 5 + ["monthly"] * 2,
            "at": pd.to_datetime("2024-01-01") + pd.to_timedelta([*days, 0, 28], unit="D"),
            "order": [str(d) for d in days] + ["0", "28"],
        }
    )
    data = Interactions.from_frame(frame, occasion="order")
    plain = RepeatBuyer(half_life=None, neighbours=0).fit(data).score(data)[0]
    cyc = RepeatBuyer(half_life=None, neighbours=0, cycle=1.0).fit(data).score(data)[0]
    weekly, monthly = data.item_codes(["weekly", "monthly"])
    assert cyc[weekly] == pytest.approx(plain[weekly], rel=1e-3)  # due: not damped
    assert cyc[monthly] == pytest.approx(0.25 * plain[monthly], rel=1e-3)  # 7 of 28 days


def test_repeat_buyer_request_path_matches_batch_path(planted: Interactions) -> None:
    # Scoring one customer (a request) takes a different route from scoring
    # everyone in a block; both must give the same scores.
    model = RepeatBuyer(half_life=3.0, neighbours=5, alpha=0.6).fit(planted)
    batch = model.score(planted)
    assert planted.n_users > 8  # the batch takes the block path
    searched = {u: model.score(planted, np.array([u]))[0] for u in (0, 17, 33)}
    # Neighbours found once for serving give the same answers as a fresh search.
    model.prepare_serving(planted)
    for user, row in searched.items():
        np.testing.assert_allclose(row, batch[user], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(
            model.score(planted, np.array([user]))[0], batch[user], rtol=1e-5, atol=1e-7
        )
    # Only the prepared data uses them: with the prepared neighbours blanked out,
    # the same customers scored from a copy of the data (as a customer with newer
    # activity is) still get their neighbours' part, found afresh.
    model._served_weights = model._served_weights.multiply(0).tocsr()
    blanked = model.score(planted, np.array([0]))[0]
    copy = planted.select(np.ones(len(planted.log), dtype=bool))
    assert not np.allclose(blanked, batch[0])
    np.testing.assert_allclose(model.score(copy, np.array([0]))[0], batch[0], rtol=1e-5)
