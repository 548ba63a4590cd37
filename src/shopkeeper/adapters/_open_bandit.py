"""The Open Bandit Dataset (ZOZOTOWN fashion recommendations) as logged feedback.

Layout: ``{random,bts}/{all,men,women}/{campaign}.csv`` and, beside each,
``item_context.csv``. A log file has a leading unnamed index column, then
``timestamp, item_id, position, click, propensity_score``, the hashed
``user_feature_0..3`` and ``user-item_affinity_*`` columns; the item context
has the index, ``item_id`` (0..n_items-1) and ``item_feature_0`` (a number)
to ``item_feature_3`` (hashed categories). The ``random`` logs were written
by a uniformly random policy, the ``bts`` logs by Bernoulli Thompson
Sampling, three items per impression (positions 1-3 on the page).

The features follow the Open Bandit Pipeline's default (obp 0.4.1) without
its ``pre_process``, which pandas 2 refuses: rows sorted by timestamp;
positions 0-based (dense rank); the context is the one-hot of the user
features without each one's first level; the item context is
``item_id, item_feature_1..3`` label-encoded (codes of the sorted distinct
values) followed by ``item_feature_0``. The affinity columns are not used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from shopkeeper.adapters._common import expect_columns, read_csv, source_file
from shopkeeper.errors import ConfigError, ContractError, Problem, SourceError
from shopkeeper.ope._feedback import LoggedFeedback

BEHAVIORS = ("random", "bts")
CAMPAIGNS = ("all", "men", "women")
LOG_COLUMNS = ("timestamp", "item_id", "position", "click", "propensity_score")
ITEM_COLUMNS = ("item_id", "item_feature_0", "item_feature_1", "item_feature_2", "item_feature_3")


def open_bandit_file(behavior: str, campaign: str, root: Path | str | None = None) -> Path:
    """``root/open_bandit/{behavior}/{campaign}/{campaign}.csv`` (root: the shared data folder).

    ConfigError for an unknown behaviour policy or campaign, or when the
    file is not there.
    """
    if behavior not in BEHAVIORS:
        raise ConfigError(f"unknown behaviour policy {behavior!r}; known: {', '.join(BEHAVIORS)}")
    if campaign not in CAMPAIGNS:
        raise ConfigError(f"unknown campaign {campaign!r}; known: {', '.join(CAMPAIGNS)}")
    if root is None:
        from shopkeeper.adapters import shared_data_dirs

        roots = shared_data_dirs()
        found = [r for r in roots if (r / "open_bandit").is_dir()]
        base = (found or roots)[0]
    else:
        base = Path(root).expanduser()
    return source_file(base / "open_bandit" / behavior / campaign, f"{campaign}.csv")


def _first_bad(path: Path, column: str, bad: np.ndarray, values: pd.Series, rule: str) -> None:
    """ContractError locating every row flagged in ``bad`` (line = row + 2: header is line 1)."""
    rows = np.flatnonzero(bad)
    if rows.size == 0:
        return
    problems = [
        Problem(str(path), rule, line=int(r) + 2, column=column, value=str(values.iloc[r]))
        for r in rows[:20]
    ]
    raise ContractError(problems, total=int(rows.size))


def _integers(path: Path, df: pd.DataFrame, column: str) -> np.ndarray:
    values = df[column]
    number = pd.to_numeric(values, errors="coerce")
    bad = number.isna() | (number != np.round(number))
    _first_bad(path, column, bad.to_numpy(), values, "must be an integer")
    return number.to_numpy().astype(np.int64)


def _numbers(path: Path, df: pd.DataFrame, column: str) -> np.ndarray:
    values = df[column]
    number = pd.to_numeric(values, errors="coerce")
    bad = number.isna() | ~np.isfinite(number.fillna(0.0))
    _first_bad(path, column, bad.to_numpy(), values, "must be a finite number")
    return number.to_numpy(dtype=float)


def read_item_context(path: Path) -> np.ndarray:
    """The item features of ``item_context.csv`` as a float array, one row per item."""
    df = read_csv(path, index_col=0, dtype=str, keep_default_na=False)
    expect_columns(df, path, ITEM_COLUMNS)
    ids = _integers(path, df, "item_id")
    expected = np.arange(len(df))
    _first_bad(
        path,
        "item_id",
        ids != expected,
        df["item_id"],
        "must number the items 0, 1, 2, ... in order",
    )
    for col in ITEM_COLUMNS[2:]:
        _first_bad(path, col, (df[col] == "").to_numpy(), df[col], "must not be empty")
    encoded = [np.unique(df[c].to_numpy(), return_inverse=True)[1] for c in ITEM_COLUMNS[2:]]
    feature_0 = _numbers(path, df, "item_feature_0")
    return np.column_stack([ids, *encoded, feature_0]).astype(float)


def read_open_bandit(path: Path | str, item_context: Path | str | None = None) -> LoggedFeedback:
    """An Open Bandit log file as :class:`~shopkeeper.ope.LoggedFeedback` (see the module doc).

    ``item_context`` defaults to ``item_context.csv`` beside ``path``. Bad
    files raise SourceError (missing, empty, unreadable, missing columns) or
    ContractError naming the file, line, column and rule of each bad value:
    an item not in the item context, a position below 1, a click other than
    0/1, a propensity outside (0, 1].
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise SourceError(str(path), "does not exist")
    items_path = (
        Path(item_context) if item_context is not None else path.parent / "item_context.csv"
    )
    if not items_path.is_file():
        raise SourceError(str(items_path), "does not exist (the item context of the log)")
    action_context = read_item_context(items_path)
    n_items = action_context.shape[0]

    df = read_csv(path, index_col=0, dtype=str, keep_default_na=False)
    expect_columns(df, path, LOG_COLUMNS)
    user_cols = [c for c in df.columns if c.startswith("user_feature")]
    item = _integers(path, df, "item_id")
    _first_bad(
        path,
        "item_id",
        (item < 0) | (item >= n_items),
        df["item_id"],
        f"must be an item of {items_path.name} (0..{n_items - 1})",
    )
    position = _integers(path, df, "position")
    _first_bad(path, "position", position < 1, df["position"], "must be 1 or more")
    click = _numbers(path, df, "click")
    _first_bad(path, "click", ~np.isin(click, (0.0, 1.0)), df["click"], "must be 0 or 1")
    pscore = _numbers(path, df, "propensity_score")
    _first_bad(
        path,
        "propensity_score",
        (pscore <= 0) | (pscore > 1),
        df["propensity_score"],
        "must lie in (0, 1]",
    )

    # The pipeline's order: by time (stable, so equal times keep the file's order).
    order = np.argsort(df["timestamp"].to_numpy(dtype=str), kind="stable")
    ranks = np.unique(position, return_inverse=True)[1]
    users = df[user_cols].iloc[order]
    context = (
        pd.get_dummies(users, drop_first=True).to_numpy(dtype=float)
        if user_cols
        else np.zeros((len(df), 0))
    )
    return LoggedFeedback(
        action=item[order],
        position=ranks[order].astype(np.int64),
        reward=click[order],
        propensity=pscore[order],
        n_actions=n_items,
        n_positions=int(ranks.max()) + 1,
        context=context,
        action_context=action_context,
    )
