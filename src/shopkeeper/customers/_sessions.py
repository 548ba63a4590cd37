"""Will this browsing session end in a purchase? A propensity model over the shop's sessions.

A session is the events sharing a ``session_id``. Its features are counted
from the events *before its first purchase event*, the view the shop has
while the visitor is still browsing, so the model never learns "a session
with a purchase event ends in a purchase". A session whose first event is
already a purchase (a direct checkout) has nothing to score and is left out.

The check is out of time: the latest ``test_share`` of sessions by start
time is the test, the sessions just before it train. The same
:class:`PropensityModel` kinds as for customers are fitted and the one with
the lowest Brier score is kept as it was tested: sessions are plentiful, so
a refit on the test period would cost a second fit for little.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import case, func, or_, select

from shopkeeper.customers._models import Kind, PropensityModel, classification_report
from shopkeeper.errors import ConfigError, SourceError
from shopkeeper.store import METADATA, Store

_EVENTS = METADATA.tables["events"]
FEATURES = (
    "events",
    "views",
    "carts",
    "searches",
    "products",
    "minutes",
    "hour",
    "weekday",
    "month",
    "known_customer",
)
# LightGBM's inner cross-validation on a million sessions takes minutes and adds
# little for ten features: the sessions just before the test, up to this many,
# train the model.
MAX_TRAIN = 30_000


def load_sessions(store: Store) -> pd.DataFrame:
    """One row per session: counts before its first purchase, start, and whether it bought."""
    first_buy = (
        select(_EVENTS.c.session_id, func.min(_EVENTS.c.at).label("bought_at"))
        .where(_EVENTS.c.event == "purchase")
        .where(_EVENTS.c.session_id.is_not(None))
        .group_by(_EVENTS.c.session_id)
        .subquery()
    )
    e = _EVENTS.c

    def count(kind: str) -> Any:
        return func.sum(case((e.event == kind, 1), else_=0))

    query = (
        select(
            e.session_id,
            func.max(e.customer_id),
            func.min(e.at),
            func.max(e.at),
            func.count(),
            count("view"),
            count("cart"),
            count("search"),
            func.count(func.distinct(e.product_id)),
            func.max(case((first_buy.c.bought_at.is_not(None), 1), else_=0)),
        )
        .select_from(_EVENTS.outerjoin(first_buy, first_buy.c.session_id == e.session_id))
        .where(e.session_id.is_not(None))
        .where(e.event != "purchase")
        .where(or_(first_buy.c.bought_at.is_(None), e.at < first_buy.c.bought_at))
        .group_by(e.session_id)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    columns = [
        "session_id",
        "customer_id",
        *("start", "end", "events", "views", "carts", "searches", "products", "bought"),
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["start"] = pd.to_datetime(frame["start"])
    frame["end"] = pd.to_datetime(frame["end"])
    return frame.set_index("session_id").sort_values("start", kind="stable")


def session_features(sessions: pd.DataFrame) -> pd.DataFrame:
    """The model's columns from :func:`load_sessions` rows (or the same columns)."""
    out = pd.DataFrame(index=sessions.index)
    for column in ("events", "views", "carts", "searches", "products"):
        out[column] = pd.to_numeric(sessions[column]).astype("int64")
    start = pd.to_datetime(sessions["start"])
    out["minutes"] = ((pd.to_datetime(sessions["end"]) - start).dt.total_seconds() / 60).clip(
        lower=0.0
    )
    out["hour"] = start.dt.hour
    out["weekday"] = start.dt.day_of_week
    out["month"] = start.dt.month
    out["known_customer"] = sessions["customer_id"].notna().astype("int64")
    return out[list(FEATURES)]


@dataclass
class SessionPropensity:
    """A fitted session model and its out-of-time check."""

    kind: str
    model: PropensityModel
    sessions: int
    test_from: str
    evaluation: dict[str, dict[str, Any]] = field(default_factory=dict)
    drivers: list[dict[str, Any]] = field(default_factory=list)

    def score(self, sessions: pd.DataFrame) -> pd.Series:
        """P(purchase) for each row of session counts (see :func:`session_features`)."""
        X = session_features(sessions)
        return pd.Series(self.model.predict_proba(X), index=X.index, name="propensity")

    def score_events(self, events: Sequence[Mapping[str, Any]]) -> float:
        """P(purchase) of one live session from its events so far (event, at, product_id)."""
        if not events:
            raise ConfigError("a session needs at least one event to be scored")
        frame = pd.DataFrame(list(events))
        if "event" not in frame or "at" not in frame:
            raise ConfigError("each session event needs 'event' and 'at'")
        frame = frame[frame["event"] != "purchase"]
        if frame.empty:
            raise ConfigError("the session has only purchase events: nothing to score")
        at = pd.to_datetime(frame["at"], utc=True).dt.tz_convert(None)
        known = frame["customer_id"].dropna() if "customer_id" in frame else pd.Series([])
        products = frame["product_id"].nunique() if "product_id" in frame else 0
        row = pd.DataFrame(
            {
                "customer_id": [known.iloc[0] if len(known) else None],
                "start": [at.min()],
                "end": [at.max()],
                "events": [len(frame)],
                "views": [int((frame["event"] == "view").sum())],
                "carts": [int((frame["event"] == "cart").sum())],
                "searches": [int((frame["event"] == "search").sum())],
                "products": [int(products)],
            }
        )
        return float(self.score(row).iloc[0])

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "sessions": self.sessions,
            "test_from": self.test_from,
            "evaluation": self.evaluation,
            "drivers": self.drivers,
        }


def train_session_propensity(
    sessions: pd.DataFrame,
    *,
    test_share: float = 0.2,
    kinds: Sequence[str] = ("logistic", "boosting"),
    seed: int = 0,
) -> SessionPropensity:
    """Fit on the earlier sessions, test on the latest, keep the best kind; see the module doc."""
    if not 0 < test_share < 1:
        raise ConfigError(f"test_share must be between 0 and 1, got {test_share}")
    if len(sessions) < 200:
        raise ConfigError(f"only {len(sessions)} sessions: a session model needs 200 or more")
    ordered = sessions.sort_values("start", kind="stable")
    y = ordered["bought"].astype(bool).to_numpy()
    if y.all() or not y.any():
        raise ConfigError("every session (or none) ended in a purchase: nothing to learn")
    X = session_features(ordered)
    cut = int(len(X) * (1 - test_share))
    X_train, y_train = X.iloc[max(0, cut - MAX_TRAIN) : cut], y[max(0, cut - MAX_TRAIN) : cut]
    X_test, y_test = X.iloc[cut:], y[cut:]
    evaluation: dict[str, dict[str, Any]] = {}
    fitted: dict[str, PropensityModel] = {}
    for kind in kinds:
        started = time.perf_counter()
        # Three inner folds: with tens of thousands of sessions each fold is large enough.
        model = PropensityModel(kind=cast(Kind, kind), seed=seed, folds=3)
        model.fit(X_train, y_train)
        report = classification_report(y_test, model.predict_proba(X_test))
        report["fit_s"] = round(time.perf_counter() - started, 2)
        evaluation[kind] = report
        fitted[kind] = model
    best = min(evaluation, key=lambda k: evaluation[k]["brier"])
    rows = np.random.default_rng(seed).permutation(len(X_test))[:3_000]
    drivers = fitted[best].drivers(X_test.iloc[rows], y_test[rows], n_repeats=3)
    return SessionPropensity(
        kind=best,
        model=fitted[best],
        sessions=len(X),
        test_from=str(pd.Timestamp(ordered["start"].iloc[cut]).date()),
        evaluation=evaluation,
        drivers=drivers.to_dict(orient="records"),
    )


_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def read_session_table(
    path: Path, target: str = "Revenue", categorical: Sequence[str] = ()
) -> tuple[pd.DataFrame, np.ndarray]:
    """A CSV of session features with a yes/no ``target`` column: features and labels.

    The UCI Online Shoppers layout is recognised and read with its own types;
    otherwise a column is a number when every value parses as one, else (or
    when named in ``categorical``) a category. Errors name the file, the line
    and the value.
    """
    from shopkeeper.customers._models import ONLINE_SHOPPERS_NUMERIC, read_online_shoppers

    source = str(path)
    if not Path(path).is_file():
        raise SourceError(source, "file not found")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SourceError(source, f"is not a readable CSV ({exc})") from exc
    if target == "Revenue" and set(ONLINE_SHOPPERS_NUMERIC) <= set(raw.columns):
        return read_online_shoppers(Path(path))
    if target not in raw.columns:
        raise SourceError(source, f"has no target column {target!r}", line=1)
    flags = raw[target].str.strip().str.lower()
    unknown = ~flags.isin(_TRUE | _FALSE)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise SourceError(
            source,
            f"{target} value {raw[target].iloc[row]!r} is not yes/no (true/false, 1/0)",
            line=row + 2,
        )
    y = flags.isin(_TRUE).to_numpy().astype("int64")
    X = pd.DataFrame(index=raw.index)
    for column in raw.columns:
        if column == target:
            continue
        numbers = pd.to_numeric(raw[column].replace("", np.nan), errors="coerce")
        as_number = column not in categorical and numbers.notna().sum() == (raw[column] != "").sum()
        X[str(column)] = numbers if as_number else raw[column].astype("category")
    if X.empty:
        raise SourceError(source, f"has no feature columns besides {target!r}", line=1)
    return X, y
