"""Bernoulli Thompson Sampling as an action distribution, and the ZOZOTOWN prior.

Thompson Sampling with a Beta(alpha_a, beta_a) belief about each action's
click rate shows, in each impression, the ``len_list`` actions with the
largest draws from those Betas, best first. Its action distribution is
estimated by simulation: ``n_sim`` impressions are drawn and each action is
counted at the position it took (the Monte Carlo the Open Bandit Pipeline's
``BernoulliTS.compute_batch_action_dist`` does, vectorised here in chunks).

The prior ZOZOTOWN's Thompson Sampling started from is shipped with the
``obp`` package (``obp/policy/conf/prior_bts.yaml``); :func:`zozotown_prior`
reads it from the installed package without importing ``obp`` (which would
import torch).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from shopkeeper.errors import ConfigError
from shopkeeper.ope._feedback import FloatArray

CAMPAIGNS = ("all", "men", "women")
OBP_INSTALL = "pip install obp==0.4.1 --no-deps"
_PRIOR_FILE = ("policy", "conf", "prior_bts.yaml")


def bts_action_dist(
    alpha: FloatArray,
    beta: FloatArray,
    len_list: int = 1,
    n_sim: int = 100_000,
    seed: int | None = None,
    n_rounds: int = 1,
    chunk: int = 10_000,
) -> FloatArray:
    """The action distribution of Bernoulli Thompson Sampling, shape ``(n_rounds, A, len_list)``.

    ``alpha`` and ``beta`` are the Beta parameters per action (all positive);
    the distribution is the same in every round (the policy ignores context),
    so ``n_rounds`` copies are returned as a read-only broadcast view.
    The Monte Carlo error of each entry is at most ``0.5 / sqrt(n_sim)``.
    """
    a = np.asarray(alpha, dtype=float)
    b = np.asarray(beta, dtype=float)
    if a.ndim != 1 or a.shape != b.shape or a.size < 1:
        raise ConfigError(
            f"alpha and beta must be 1-D of the same length, got {a.shape} and {b.shape}"
        )
    if not ((a > 0).all() and (b > 0).all()):
        raise ConfigError("alpha and beta must be positive for every action")
    if not 1 <= len_list <= a.size:
        raise ConfigError(f"len_list must lie in 1..{a.size}, got {len_list}")
    if n_sim < 1:
        raise ConfigError(f"n_sim must be at least 1, got {n_sim}")
    rng = np.random.default_rng(seed)
    counts = np.zeros((a.size, len_list))
    cols = np.arange(len_list)
    done = 0
    while done < n_sim:
        size = min(chunk, n_sim - done)
        draws = rng.beta(a, b, size=(size, a.size))
        # The len_list largest draws per impression, best first.
        top = np.argpartition(-draws, len_list - 1, axis=1)[:, :len_list]
        order = np.argsort(-np.take_along_axis(draws, top, axis=1), axis=1)
        ranked = np.take_along_axis(top, order, axis=1)
        np.add.at(counts, (ranked, np.broadcast_to(cols, ranked.shape)), 1.0)
        done += size
    dist = counts / n_sim
    return np.broadcast_to(dist[None], (n_rounds, a.size, len_list))


def obp_prior_file() -> Path:
    """Where the installed ``obp`` package keeps the ZOZOTOWN prior; ConfigError if absent."""
    spec = importlib.util.find_spec("obp")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the ZOZOTOWN prior is read from the obp package, which is not installed; "
            f"install it with: {OBP_INSTALL}"
        )
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*_PRIOR_FILE)
    if not path.is_file():
        raise ConfigError(f"obp is installed but has no {path}; reinstall it with: {OBP_INSTALL}")
    return path


def zozotown_prior(campaign: str) -> tuple[FloatArray, FloatArray]:
    """(alpha, beta) per item of ZOZOTOWN's Thompson Sampling for ``campaign``."""
    import yaml

    if campaign not in CAMPAIGNS:
        raise ConfigError(f"unknown campaign {campaign!r}; known: {', '.join(CAMPAIGNS)}")
    path = obp_prior_file()
    with path.open("rb") as fh:
        prior = yaml.safe_load(fh)
    try:
        alpha = np.asarray(prior[campaign]["alpha"], dtype=float)
        beta = np.asarray(prior[campaign]["beta"], dtype=float)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"{path}: no alpha/beta lists for campaign {campaign!r} ({exc})"
        ) from None
    if alpha.shape != beta.shape:
        raise ConfigError(f"{path}: campaign {campaign!r} has alpha and beta of unequal length")
    return alpha, beta
