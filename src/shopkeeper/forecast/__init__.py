"""Demand forecasting (issue 6, in progress): the demand the forecasts read, and their scores.

- :func:`load_demand`: units per product (and location) per period from a
  store, at the data's natural frequency (see :mod:`._data`);
- :mod:`._metrics`: WAPE, MASE, bias and interval coverage.
"""

from shopkeeper.forecast._data import Demand, fill_prices, load_demand, natural_frequency
from shopkeeper.forecast._metrics import bias, coverage, mase, mase_scales, wape

__all__ = [
    "Demand",
    "bias",
    "coverage",
    "fill_prices",
    "load_demand",
    "mase",
    "mase_scales",
    "natural_frequency",
    "wape",
]
