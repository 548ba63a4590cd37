"""Reading a decision log and a policy from CSV files (what ``shopkeeper ope`` takes).

A decision log CSV has one row per round (a shown action) with the columns

- ``action``: the action's index, 0-based integer;
- ``position``: the slot it was shown in, 0-based integer (0 for single shows);
- ``propensity``: the logging policy's probability of that action at that
  position, in (0, 1];
- ``reward``: the outcome (a click: 0 or 1; or any number);
- optionally ``context_*``: numeric features of the round (the context; an
  empty cell reads as 0);
- optionally ``n_actions``: how many actions the logging policy had (actions
  it never chose still count); other columns (ids, times) are ignored.

This is the layout of the decision log's export (``shopkeeper.decide``).

An Open Bandit Dataset file (``item_id, position, click, propensity_score``)
is recognised by its columns and read by the Open Bandit adapter instead.

A policy CSV has the columns ``action, position, probability``: the
probability that the policy shows ``action`` at ``position`` (the same in
every round; pairs left out are 0). A prior CSV for Thompson Sampling has
``action, alpha, beta``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.adapters._common import read_csv
from shopkeeper.errors import ContractError, Problem, SourceError
from shopkeeper.ope._feedback import FloatArray, LoggedFeedback

LOG_COLUMNS = ("action", "position", "propensity", "reward")


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise SourceError(str(path), "does not exist")
    df = read_csv(path, dtype=str, keep_default_na=False)
    if df.empty:
        raise SourceError(str(path), "has a header but no rows")
    return df


def _need(df: pd.DataFrame, path: Path, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SourceError(
            str(path),
            f"lacks the column(s) {', '.join(missing)} (it has {', '.join(map(str, df.columns))})",
        )


def _column(
    df: pd.DataFrame,
    path: Path,
    column: str,
    integer: bool,
    rule: str,
    ok: Callable[[np.ndarray], Any] | None = None,
) -> np.ndarray:
    """``column`` as numbers; ContractError locating each value not a number or failing ``ok``."""
    text = df[column]
    number = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(number)
    if integer:
        bad |= np.isfinite(number) & (number != np.round(number))
    if ok is not None:
        bad |= np.logical_not(np.asarray(ok(np.nan_to_num(number))))
    rows = np.flatnonzero(bad)
    if rows.size:
        problems = [
            Problem(str(path), rule, line=int(r) + 2, column=column, value=str(text.iloc[r]))
            for r in rows[:20]
        ]
        raise ContractError(problems, total=int(rows.size))
    return number.astype(np.int64) if integer else number


def is_open_bandit(path: Path) -> bool:
    """Whether ``path`` has the Open Bandit Dataset's columns (judged from its header)."""
    try:
        with path.open(encoding="utf-8") as fh:
            header = fh.readline()
    except (OSError, UnicodeDecodeError):
        return False
    names = {c.strip() for c in header.split(",")}
    return {"item_id", "click", "propensity_score"} <= names


def read_decision_log(path: Path | str) -> LoggedFeedback:
    """The decision log CSV at ``path`` (either format in the module doc) as LoggedFeedback.

    The number of actions is one more than the largest action index and the
    number of positions one more than the largest position. Raises
    SourceError or ContractError naming the file, line, column and rule.
    """
    path = Path(path).expanduser()
    if path.is_file() and is_open_bandit(path):
        from shopkeeper.adapters._open_bandit import read_open_bandit

        return read_open_bandit(path)
    df = _read(path)
    _need(df, path, LOG_COLUMNS)
    action = _column(df, path, "action", True, "must be an integer 0 or more", lambda x: x >= 0)
    position = _column(df, path, "position", True, "must be an integer 0 or more", lambda x: x >= 0)
    propensity = _column(
        df, path, "propensity", False, "must be a number in (0, 1]", lambda x: (x > 0) & (x <= 1)
    )
    reward = _column(df, path, "reward", False, "must be a number")
    ctx_cols = [c for c in df.columns if str(c).startswith("context_")]
    # An empty context cell is a feature the decision did not have: read as 0.
    filled = df[ctx_cols].replace("", "0")
    context = (
        np.column_stack([_column(filled, path, c, False, "must be a number") for c in ctx_cols])
        if ctx_cols
        else np.zeros((len(df), 0))
    )
    n_actions = int(action.max()) + 1
    if "n_actions" in df.columns:
        # The policy's own count: actions it never chose still count.
        counts = _column(df, path, "n_actions", True, "must be a positive integer", lambda x: x > 0)
        n_actions = max(n_actions, int(counts.max()))
    return LoggedFeedback(
        action=action,
        position=position,
        reward=reward,
        propensity=propensity,
        n_actions=n_actions,
        n_positions=int(position.max()) + 1,
        context=context,
    )


def read_policy(path: Path | str, n_actions: int, n_positions: int) -> FloatArray:
    """A context-free policy CSV (``action, position, probability``) as shape (1, A, K).

    ContractError for an action or position outside the log's range or a
    probability outside [0, 1]; ConfigError (from the estimators) when the
    probabilities at a position do not sum to one.
    """
    path = Path(path).expanduser()
    df = _read(path)
    _need(df, path, ("action", "position", "probability"))
    action = _column(
        df,
        path,
        "action",
        True,
        f"must be an action of the log (0..{n_actions - 1})",
        lambda x: (x >= 0) & (x < n_actions),
    )
    position = _column(
        df,
        path,
        "position",
        True,
        f"must be a position of the log (0..{n_positions - 1})",
        lambda x: (x >= 0) & (x < n_positions),
    )
    prob = _column(
        df, path, "probability", False, "must be a number in [0, 1]", lambda x: (x >= 0) & (x <= 1)
    )
    dist = np.zeros((1, n_actions, n_positions))
    np.add.at(dist, (np.zeros_like(action), action, position), prob)
    sums = dist[0].sum(axis=0)
    off = [k for k in range(n_positions) if abs(sums[k] - 1.0) > 1e-6]
    if off:
        k = off[0]
        raise ContractError(
            [
                Problem(
                    str(path),
                    f"must sum to 1 at position {k} (it sums to {sums[k]:.6g})",
                    column="probability",
                )
            ]
        )
    return dist


def read_prior(path: Path | str, n_actions: int) -> tuple[FloatArray, FloatArray]:
    """A Beta prior CSV (``action, alpha, beta``), one row for each of the log's actions."""
    path = Path(path).expanduser()
    df = _read(path)
    _need(df, path, ("action", "alpha", "beta"))
    action = _column(
        df,
        path,
        "action",
        True,
        f"must be an action of the log (0..{n_actions - 1})",
        lambda x: (x >= 0) & (x < n_actions),
    )
    alpha = _column(df, path, "alpha", False, "must be a positive number", lambda x: x > 0)
    beta = _column(df, path, "beta", False, "must be a positive number", lambda x: x > 0)
    if sorted(action.tolist()) != list(range(n_actions)):
        raise ContractError(
            [
                Problem(
                    str(path),
                    f"must list every action 0..{n_actions - 1} exactly once",
                    column="action",
                )
            ]
        )
    order = np.argsort(action)
    return alpha[order], beta[order]
