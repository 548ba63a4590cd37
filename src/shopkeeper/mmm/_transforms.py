"""Carry-over (adstock) and saturation: how spend turns into effect.

Adstock spreads each day's spend over the following days; both kinds here
are *normalised*: their weights sum to one, so a steady daily spend ``x``
has a steady adstock ``x`` and a channel's response curve can be read in
money per day. Saturation is the Hill curve ``a^s / (a^s + K^s)``: half of
the effect at ``a = K``, S-shaped for ``s > 1``.

- geometric: ``a[t] = (1 - decay) * spend[t] + decay * a[t - 1]``, started in
  the steady state of the first day (no artificial ramp-up at the start);
- Weibull: weights proportional to the Weibull density at lags 0..L-1
  (shape below one: decays at once; above one: the effect peaks later, as
  for video or TV), as in Meta's Robyn.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter
from scipy.special import expit

ADSTOCKS = ("geometric", "weibull")
WEIBULL_LAGS = 28


def geometric(spend: np.ndarray, decay: float) -> np.ndarray:
    """Normalised geometric adstock of one channel's spend (1-D)."""
    if not 0 <= decay < 1:
        raise ValueError(f"decay must be in [0, 1), got {decay}")
    start = np.array([decay * spend[0]]) if len(spend) else np.zeros(1)
    out, _ = lfilter([1.0 - decay], [1.0, -decay], spend, zi=start)
    return np.asarray(out)


def weibull_weights(shape: float, scale: float, lags: int = WEIBULL_LAGS) -> np.ndarray:
    """Lag weights from the Weibull density (lags 0..lags-1, summing to one)."""
    if shape <= 0 or scale <= 0:
        raise ValueError(f"Weibull shape and scale must be positive, got {shape}, {scale}")
    x = (np.arange(lags) + 0.5) / scale  # mid-points, so that lag 0 has a finite density
    density = (shape / scale) * x ** (shape - 1) * np.exp(-(x**shape))
    total = density.sum()
    return density / total if total > 0 else np.r_[1.0, np.zeros(lags - 1)]


def weibull(spend: np.ndarray, shape: float, scale: float, lags: int = WEIBULL_LAGS) -> np.ndarray:
    """Normalised Weibull adstock; days before the first are taken at the first day's spend."""
    w = weibull_weights(shape, scale, lags)
    padded = np.r_[np.full(lags - 1, spend[0] if len(spend) else 0.0), spend]
    return np.convolve(padded, w, mode="full")[lags - 1 : lags - 1 + len(spend)]


def hill(adstock: np.ndarray, shape: float, half: float) -> np.ndarray:
    """The Hill saturation ``a^s / (a^s + K^s)`` (0 at no spend, 1/2 at ``a = K``)."""
    a = np.maximum(np.asarray(adstock, dtype=float), 0.0)
    # As a logistic in log(a): no overflow for a far below or above the half point.
    log_a = np.log(a, out=np.full_like(a, -np.inf), where=a > 0)
    return np.asarray(expit(shape * (log_a - np.log(half))))
