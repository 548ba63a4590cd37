"""SessionTransitions: what visitors view next, learned from browse sessions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopkeeper.errors import ConfigError
from shopkeeper.recommend import Interactions
from shopkeeper.recommend._session import SessionTransitions

ITEMS = ["A", "B", "C", "D", "E"]
T0 = pd.Timestamp("2024-03-01 10:00")


def _events(sessions: dict[str, list[str]], event: str = "view") -> pd.DataFrame:
    rows = [
        (sid, item, T0 + pd.Timedelta(minutes=step), event)
        for sid, items in sessions.items()
        for step, item in enumerate(items)
    ]
    return pd.DataFrame(rows, columns=["session_id", "product_id", "at", "event"])


def _views(rows: list[tuple[str, str, float]]) -> Interactions:
    """Interactions of known users: (user, item, minutes after T0)."""
    frame = pd.DataFrame(
        [(u, i, T0 + pd.Timedelta(minutes=m)) for u, i, m in rows],
        columns=["customer_id", "product_id", "at"],
    )
    return Interactions.from_frame(frame, items=ITEMS)


# A -> B -> C five times, B -> D once: after B comes C.
EVENTS = _events({**{f"s{k}": ["A", "B", "C"] for k in range(5)}, "odd": ["B", "D"]})
DATA = _views([("u1", "A", 0), ("u1", "B", 1), ("u2", "D", 0), ("u3", "C", 0), ("u3", "A", 1)])


@pytest.fixture(scope="module")
def model() -> SessionTransitions:
    return SessionTransitions(EVENTS).fit(DATA)


def test_repeated_path_makes_c_the_next_item_after_b(model: SessionTransitions) -> None:
    out = model.recommend_session(["B"])
    assert [i for i, _ in out] == ["C", "D"]
    assert out[0][1] == pytest.approx(5 / 6)  # rows are shares of onward steps
    assert sum(s for _, s in out) == pytest.approx(1.0)


def test_recommend_session_excludes_the_input_and_ignores_unknown_ids(
    model: SessionTransitions,
) -> None:
    out = model.recommend_session(["A", "B"])
    ids = [i for i, _ in out]
    assert ids[0] == "C"
    assert "A" not in ids and "B" not in ids
    assert model.recommend_session(["nope", "B"]) == model.recommend_session(["B"])
    assert model.recommend_session(["nope"]) == []
    assert model.recommend_session([]) == []
    assert len(model.recommend_session(["B"], n=1)) == 1


def test_window_and_decay_reach_two_steps_back() -> None:
    # A -> C happens two steps on: counted at weight decay with window 2, never with 1.
    near = SessionTransitions(EVENTS, window=1).fit(DATA).recommend_session(["A"])
    assert [i for i, _ in near] == ["B"]
    far = dict(SessionTransitions(EVENTS, window=2, decay=0.5).fit(DATA).recommend_session(["A"]))
    assert set(far) == {"B", "C"}
    assert far["C"] == pytest.approx(0.5 * far["B"])


def test_recent_views_weigh_more(model: SessionTransitions) -> None:
    # The latest view counts most: C, B's usual next item, scores less when B came first.
    recent_a = dict(model.recommend_session(["B", "A"]))
    recent_b = dict(model.recommend_session(["A", "B"]))
    assert recent_a["C"] < recent_b["C"]


def test_only_the_last_window_items_count() -> None:
    model = SessionTransitions(EVENTS, window=1).fit(DATA)
    assert model.recommend_session(["B", "E"]) == []  # E leads nowhere; B is too far back
    assert [i for i, _ in model.recommend_session(["E", "B"])] == ["C", "D"]


def test_no_self_transitions_and_repeats_are_one_step() -> None:
    events = _events({"s": ["A", "A", "B", "A", "C"]})
    model = SessionTransitions(events, window=3).fit(DATA)
    scores = model.score(_views([("u", "A", 0)]))
    assert scores[0, ITEMS.index("A")] == 0
    # The reload of A is one step, A B A C: A -> B and A -> C once each at distance 1
    # (the A -> A two steps on is a self-transition). Counting the reload would add
    # A -> B at distance 2 and tip the row to B.
    row = dict(SessionTransitions(events, window=2).fit(DATA).recommend_session(["A"]))
    assert row == {"B": pytest.approx(0.5), "C": pytest.approx(0.5)}


def test_score_uses_each_users_last_items(model: SessionTransitions) -> None:
    scores = model.score(DATA)
    assert scores.shape == (DATA.n_users, DATA.n_items)
    u1, u2, u3 = DATA.user_codes(["u1", "u2", "u3"])
    assert int(np.argmax(scores[u1])) == ITEMS.index("C")  # last viewed B
    assert scores[u2].max() == 0  # D leads nowhere
    assert int(np.argmax(scores[u3])) == ITEMS.index("B")  # last viewed A
    sub = model.score(DATA, np.array([u3, u1, u3]))
    np.testing.assert_array_equal(sub, scores[[u3, u1, u3]])


def test_events_are_ordered_by_time_across_time_zones() -> None:
    # Rows out of order, offsets differ: in UTC the path is A (02:00) -> B (02:05).
    events = pd.DataFrame(
        {
            "session_id": ["s", "s"],
            "product_id": ["B", "A"],
            "at": ["2024-03-01T10:05:00+08:00", "2024-03-01T02:00:00+00:00"],
        }
    )
    model = SessionTransitions(events).fit(DATA)
    assert [i for i, _ in model.recommend_session(["A"])] == ["B"]
    assert model.recommend_session(["B"]) == []


def test_search_events_and_foreign_products_are_skipped() -> None:
    events = pd.concat(
        [_events({"s": ["A", "ZZZ", "B"]}), _events({"s": ["E"]}, event="search")]
    ).sort_values("at", kind="stable")
    # The search on E happens between A and B; ZZZ is not a product of the universe.
    model = SessionTransitions(events, window=1).fit(DATA)
    assert [i for i, _ in model.recommend_session(["A"])] == ["B"]


def test_without_events_sessions_are_cut_from_the_log_by_time_gap() -> None:
    data = _views(
        [("u1", "A", 0), ("u1", "B", 1), ("u1", "C", 2), ("u1", "D", 120), ("u2", "C", 0)]
    )
    model = SessionTransitions(max_gap_minutes=30).fit(data)
    assert [i for i, _ in model.recommend_session(["B"])] == ["C"]
    assert model.recommend_session(["C"]) == []  # two hours later is another session
    longer = SessionTransitions(max_gap_minutes=180).fit(data)
    assert [i for i, _ in longer.recommend_session(["C"])] == ["D"]


def test_explain_names_the_item_viewed_before(model: SessionTransitions) -> None:
    u1 = int(DATA.user_codes(["u1"])[0])
    assert model.explain(DATA, u1, ITEMS.index("C")) == "often viewed next after B"


def test_bad_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="window"):
        SessionTransitions(window=0)
    with pytest.raises(ConfigError, match="decay"):
        SessionTransitions(decay=0)
    with pytest.raises(ConfigError, match="no column session_id"):
        SessionTransitions(EVENTS.drop(columns="session_id")).fit(DATA)
    with pytest.raises(ConfigError, match="fit"):
        SessionTransitions(EVENTS).recommend_session(["A"])
