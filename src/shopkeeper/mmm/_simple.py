"""The simple model: sales against total ad spend, a straight line.

It is what most people try first ("sales = 1.2 × spend + 2,000, so 5,000 of
spend sells 7,000"), so the CLI and the dashboard show it beside the mix.
Ordinary least squares per period with the usual intervals: the confidence
interval of the line's mean and the prediction interval of one period's
sales at a planned spend (Student t). It ignores carry-over, saturation,
seasons and channels; the mix does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from shopkeeper.errors import ConfigError


@dataclass
class SimpleModel:
    """``sales = intercept + slope × spend`` per period, fitted by least squares."""

    intercept: float
    slope: float
    r2: float
    n: int
    residual_sd: float
    mean_spend: float
    sxx: float  # sum of squared spend deviations
    slope_se: float
    intercept_se: float

    def predict(self, spend: float, level: float = 0.9) -> dict[str, float]:
        """Sales for one period at ``spend``, with the mean's and one period's intervals."""
        if not 0 < level < 1:
            raise ConfigError(f"level must be between 0 and 1, got {level}")
        mean = self.intercept + self.slope * spend
        t = float(stats.t.ppf(0.5 + level / 2, self.n - 2))
        lever = 1 / self.n + (spend - self.mean_spend) ** 2 / self.sxx
        half_mean = t * self.residual_sd * np.sqrt(lever)
        half_one = t * self.residual_sd * np.sqrt(1 + lever)
        return {
            "spend": float(spend),
            "sales": float(mean),
            "mean_low": float(mean - half_mean),
            "mean_high": float(mean + half_mean),
            "low": float(mean - half_one),
            "high": float(mean + half_one),
            "level": level,
        }


def fit_simple(spend: np.ndarray, sales: np.ndarray) -> SimpleModel:
    """Least squares of ``sales`` on ``spend`` (one value per period)."""
    x = np.asarray(spend, dtype=float)
    y = np.asarray(sales, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ConfigError("spend and sales must be two series of the same length")
    if len(x) < 3:
        raise ConfigError(f"a line needs at least 3 periods, got {len(x)}")
    mx = x.mean()
    sxx = float(((x - mx) ** 2).sum())
    if sxx == 0:
        raise ConfigError("total ad spend is the same every period: no line can be fitted")
    slope = float(((x - mx) * (y - y.mean())).sum() / sxx)
    intercept = float(y.mean() - slope * mx)
    resid = y - intercept - slope * x
    n = len(x)
    sd = float(np.sqrt((resid**2).sum() / (n - 2)))
    total = float(((y - y.mean()) ** 2).sum())
    return SimpleModel(
        intercept=intercept,
        slope=slope,
        r2=1 - float((resid**2).sum()) / total if total > 0 else 0.0,
        n=n,
        residual_sd=sd,
        mean_spend=float(mx),
        sxx=sxx,
        slope_se=sd / np.sqrt(sxx),
        intercept_se=sd * float(np.sqrt(1 / n + mx**2 / sxx)),
    )
