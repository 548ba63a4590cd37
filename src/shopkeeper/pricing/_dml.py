"""How the own-price elasticity varies with location attributes: double machine learning.

The partially linear model with a heterogeneous slope::

    log units = (theta_0 + theta' z_s) log p + f(W) + u

where ``z_s`` are the location's attributes (store demographics, centred
and scaled to one standard deviation, so ``theta_k`` is the change in
elasticity per standard deviation of attribute ``k``) and ``W`` the
controls (product, period, promotion flags, the other products' prices,
the attributes themselves, which also tell the locations apart).
Partialling out with cross-fitting (K random folds of rows, so that the
learner sees every location in training and can learn its level): a
flexible learner predicts ``log units`` and ``log p`` from ``W`` on the
other folds;
the residuals ``y~`` and ``t~`` then give ``theta`` by least squares of
``y~`` on ``t~ x [1, z]``, with standard errors clustered by location.
Per-location elasticities are ``theta_0 + theta' z_s`` with the interval
from the covariance of ``theta``.

Written here with scikit-learn's folds and LightGBM (``n_jobs`` explicit);
the ``doubleml`` package fits the same model (``DoubleMLPLR`` on the
interacted treatment) and the benchmark runs it side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from shopkeeper.errors import ConfigError
from shopkeeper.forecast._data import PROMOTION_KINDS
from shopkeeper.pricing._fe import LEVEL, cluster_cov, codes_of
from shopkeeper.pricing._panel import DemandPanel

LEARNERS = ("lgbm", "gbr")


@dataclass
class HeterogeneityResult:
    """The interaction coefficients and the per-location elasticities.

    ``coefficients``: ``term`` (``elasticity`` at the average location, then
    one per attribute: the change per standard deviation), ``coef``, ``se``,
    ``lo``, ``hi``, ``p_value``. ``by_location``: ``location_id``,
    ``elasticity``, ``se``, ``lo``, ``hi`` and the raw attributes.
    ``scale``: each attribute's mean and standard deviation.
    """

    coefficients: pd.DataFrame
    by_location: pd.DataFrame
    scale: pd.DataFrame
    folds: int
    learner: str
    n: int
    r2_outcome: float  # out-of-fold R^2 of the nuisance models
    r2_price: float
    level: float = LEVEL
    notes: list[str] = field(default_factory=list)


def _learner(name: str, seed: int, n_jobs: int, trees: int) -> object:
    if name == "lgbm":
        from lightgbm import LGBMRegressor

        return LGBMRegressor(
            n_estimators=trees,
            learning_rate=0.05,
            num_leaves=31,
            min_child_samples=20,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            random_state=seed,
            n_jobs=n_jobs,
            verbose=-1,
        )
    if name == "gbr":
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(max_iter=trees, learning_rate=0.05, random_state=seed)
    raise ConfigError(f"DML learner {name!r}: choose from {', '.join(LEARNERS)}")


def dml_design(
    panel: DemandPanel, attributes: Sequence[str] | None = None, cross: bool | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows the DML fit uses and the location attributes (raw), aligned by location.

    Returns ``(rows, demographics)``: ``rows`` with ``y``, ``t``, ``location_id``
    and the control columns (``ctl_*``); ``demographics`` indexed by location.
    """
    demo = panel.demographics(list(attributes) if attributes is not None else None)
    demo = demo.dropna(axis=1, how="all")
    if demo.shape[1] == 0:
        raise ConfigError(
            "elasticity by location needs numeric location attributes (the locations "
            "table's extra columns, e.g. store demographics); this store has none"
        )
    frame = panel.frame
    rows = frame[(frame["units"] > 0) & (frame["price"] > 0)].copy()
    rows = rows[rows["location_id"].isin(demo.dropna().index)]
    if rows["location_id"].nunique() < 4:
        raise ConfigError(
            "elasticity by location needs at least 4 locations with attributes and sales; "
            f"found {rows['location_id'].nunique()}"
        )
    out = pd.DataFrame(
        {
            "y": np.log(rows["units"].to_numpy()),
            "t": np.log(rows["price"].to_numpy()),
            "location_id": rows["location_id"].to_numpy(),
            "product_id": rows["product_id"].to_numpy(),
        }
    )
    products = sorted(pd.unique(rows["product_id"]))
    out["ctl_product"] = pd.Categorical(rows["product_id"], categories=products).codes
    periods = pd.to_datetime(rows["period"])
    out["ctl_period"] = ((periods - periods.min()).dt.days).to_numpy()
    for kind in PROMOTION_KINDS:
        if rows[kind].nunique() > 1:
            out[f"ctl_{kind}"] = rows[kind].to_numpy(dtype="float64")
    use_cross = (len(products) <= 20) if cross is None else cross
    if use_cross:
        at = pd.MultiIndex.from_arrays([rows["location_id"], rows["period"]])
        block = np.log(panel.prices[products].reindex(at).to_numpy())
        own = out["ctl_product"].to_numpy()
        for j, pid in enumerate(products):
            # A row's own price is the treatment, never a control (the learner reads NaN).
            out[f"ctl_price_{pid}"] = np.where(own == j, np.nan, block[:, j])
    attrs = demo.reindex(out["location_id"]).to_numpy()
    for j, col in enumerate(demo.columns):
        out[f"ctl_{col}"] = attrs[:, j]
    return out, demo


def elasticity_by_location(
    panel: DemandPanel,
    attributes: Sequence[str] | None = None,
    *,
    folds: int = 5,
    learner: str = "lgbm",
    seed: int = 0,
    n_jobs: int = 2,
    trees: int = 400,
    cross: bool | None = None,
    level: float = LEVEL,
) -> HeterogeneityResult:
    """Own-price elasticity as a function of location attributes (see the module doc).

    ``attributes``: the numeric location columns to use (default: all of
    them); ``folds``: cross-fitting folds (random rows); ``learner``:
    ``lgbm`` (LightGBM) or ``gbr`` (scikit-learn's histogram gradient boosting)
    with ``trees`` boosting rounds, on ``n_jobs`` threads.
    """
    from sklearn.model_selection import KFold

    if folds < 2:
        raise ConfigError(f"DML folds {folds!r}: at least 2")
    rows, demo = dml_design(panel, attributes, cross)
    controls = [c for c in rows.columns if c.startswith("ctl_")]
    w = rows[controls].to_numpy(dtype="float64")
    y = rows["y"].to_numpy()
    t = rows["t"].to_numpy()
    groups = rows["location_id"].to_numpy()
    k = folds

    # Cross-fitted nuisance predictions: each fold predicted by models of the others.
    y_hat = np.empty_like(y)
    t_hat = np.empty_like(t)
    splitter = KFold(n_splits=k, shuffle=True, random_state=seed)
    for i, (train, test) in enumerate(splitter.split(w)):
        for target, hat in ((y, y_hat), (t, t_hat)):
            model = _learner(learner, seed + i, n_jobs, trees)
            model.fit(w[train], target[train])  # type: ignore[attr-defined]
            hat[test] = model.predict(w[test])  # type: ignore[attr-defined]
    y_res = y - y_hat
    t_res = t - t_hat

    # The final stage: residual on residual times [1, standardised attributes].
    mean = demo.mean()
    sd = demo.std(ddof=0).replace(0.0, 1.0)
    z = ((demo - mean) / sd).reindex(groups).to_numpy()
    x = np.column_stack([t_res, t_res[:, None] * z])
    coef, *_ = np.linalg.lstsq(x, y_res, rcond=None)
    u = y_res - x @ coef
    codes, n_c = codes_of(groups)
    cov = cluster_cov(x, u, codes, n_c, x.shape[1])
    se = np.sqrt(np.diag(cov))
    tq = stats.t.ppf(0.5 + level / 2, max(n_c - 1, 1))
    terms = ["elasticity", *demo.columns]
    coefficients = pd.DataFrame(
        {
            "term": terms,
            "coef": coef,
            "se": se,
            "lo": coef - tq * se,
            "hi": coef + tq * se,
            "p_value": 2 * stats.t.sf(np.abs(coef / se), max(n_c - 1, 1)),
        }
    )

    # Per location: theta_0 + theta' z_s, with its standard error from cov.
    present = demo.loc[sorted(pd.unique(groups))]
    zs = ((present - mean) / sd).to_numpy()
    a = np.column_stack([np.ones(len(zs)), zs])
    est = a @ coef
    est_se = np.sqrt(np.einsum("ij,jk,ik->i", a, cov, a))
    by_location = pd.DataFrame(
        {
            "location_id": present.index.to_numpy(),
            "elasticity": est,
            "se": est_se,
            "lo": est - tq * est_se,
            "hi": est + tq * est_se,
        }
    )
    by_location = pd.concat([by_location, present.reset_index(drop=True)], axis=1)
    return HeterogeneityResult(
        coefficients=coefficients,
        by_location=by_location,
        scale=pd.DataFrame({"mean": mean, "sd": sd}),
        folds=k,
        learner=learner,
        n=len(y),
        r2_outcome=float(1 - y_res.var() / y.var()),
        r2_price=float(1 - t_res.var() / t.var()),
        level=level,
    )
