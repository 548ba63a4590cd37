"""CLI: ``shopkeeper ope``, the value of a policy estimated from a decision log."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from shopkeeper.cli import JsonOpt, _errors, _print_json, _progress, app, console
from shopkeeper.errors import ConfigError


def _policy_dist(
    policy: str,
    prior: str | None,
    campaign: str | None,
    n_actions: int,
    n_positions: int,
    n_sim: int,
    seed: int,
) -> tuple[Any, str]:
    """The action distribution (1, A, K) that ``--policy`` names, and a description."""
    from shopkeeper.ope import bts_action_dist, read_policy, read_prior, uniform_action_dist
    from shopkeeper.ope._bts import CAMPAIGNS, zozotown_prior

    if policy == "uniform":
        return uniform_action_dist(n_actions, n_positions), "uniform random"
    if policy == "bts":
        if prior is None or prior == "zozotown":
            if campaign is None:
                raise ConfigError(
                    f"--policy bts --prior zozotown needs --campaign ({', '.join(CAMPAIGNS)})"
                )
            alpha, beta = zozotown_prior(campaign)
            what = f"Bernoulli TS, ZOZOTOWN prior ({campaign})"
        else:
            alpha, beta = read_prior(Path(prior), n_actions)
            what = f"Bernoulli TS, prior {prior}"
        if alpha.size != n_actions:
            raise ConfigError(
                f"the prior has {alpha.size} actions but the log has {n_actions}; "
                "a prior must give every action of the log its alpha and beta"
            )
        dist = bts_action_dist(alpha, beta, len_list=n_positions, n_sim=n_sim, seed=seed)
        return dist, what
    path = Path(policy)
    if not path.exists():
        raise ConfigError(
            f"--policy {policy!r} is neither uniform, bts nor an existing CSV file "
            "(action,position,probability)"
        )
    return read_policy(path, n_actions, n_positions), f"action probabilities from {policy}"


@app.command("ope")
def ope_command(
    log: Annotated[
        Path,
        typer.Option(
            "--log",
            "-l",
            help="Decision log CSV: action,position,propensity,reward[,context_*] (0-based "
            "action and position), or an Open Bandit Dataset file.",
        ),
    ],
    policy: Annotated[
        str,
        typer.Option(
            "--policy",
            "-p",
            help="The policy to evaluate: uniform, bts, or a CSV action,position,probability.",
        ),
    ],
    estimators: Annotated[
        str,
        typer.Option(
            "--estimators",
            "-e",
            help="Comma-separated: ipw, snipw, dm, dr, switch-dr, dros.",
        ),
    ] = "ipw,snipw,dm,dr,switch-dr,dros",
    reward_model: Annotated[
        str, typer.Option("--reward-model", help="Reward model for dm/dr: logistic or gbm.")
    ] = "logistic",
    per_position: Annotated[
        bool,
        typer.Option(
            "--per-position/--pooled",
            help="One reward model per position, or one with the position as a feature.",
        ),
    ] = False,
    prior: Annotated[
        str | None,
        typer.Option("--prior", help="With --policy bts: zozotown, or a CSV action,alpha,beta."),
    ] = None,
    campaign: Annotated[
        str | None,
        typer.Option("--campaign", help="With --prior zozotown: all, men or women."),
    ] = None,
    bootstrap: Annotated[
        int,
        typer.Option(
            "--bootstrap", "-b", help="Bootstrap resamples for the intervals (0: none).", min=0
        ),
    ] = 100,
    fixed_model: Annotated[
        bool,
        typer.Option(
            "--fixed-model",
            help="Keep the reward model fixed in the bootstrap (faster; DM intervals too narrow).",
        ),
    ] = False,
    n_sim: Annotated[
        int, typer.Option("--n-sim", help="Simulated impressions for --policy bts.", min=1)
    ] = 100_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap and BTS.")] = 12345,
    select_reps: Annotated[
        int,
        typer.Option(
            "--select-reps",
            help="Simulated reward draws that choose the recommended estimator for this log "
            "(0: no simulation, dros is recommended).",
            min=0,
        ),
    ] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Estimate what a policy would have earned, from a log another policy wrote.

    Every estimator answers the same question: the mean reward per round had
    the shop shown what --policy shows. IPW and SNIPW reweight the logged
    rewards by how much more (or less) often the policy shows each logged
    action; DM asks a reward model fitted on the log; DR adds IPW's
    correction to DM; switch-DR and DRos shrink the correction where weights
    are large, with their tau and lambda chosen by estimated mean squared
    error. Which of them to trust depends on the log, so the recommended one
    is chosen per log: the log's rewards are replaced by draws from a known
    reward function fitted to it (--select-reps times) and the estimator
    closest to that known truth wins (see docs/ope.md). The 95% intervals
    bootstrap the rounds and refit the reward model each time.

    [bold]Examples[/bold]

      shopkeeper ope --log random/all/all.csv --policy bts --prior zozotown --campaign all
      shopkeeper ope --log decisions.csv --policy uniform --estimators ipw,dr --json
      shopkeeper ope --log decisions.csv --policy new_ranking.csv --reward-model gbm -b 50
    """
    from shopkeeper.ope import (
        RECOMMENDED,
        RewardModel,
        evaluate_policy,
        read_decision_log,
        select_estimator,
    )

    with _errors(as_json):
        names = [n.strip() for n in estimators.split(",") if n.strip()]
        if reward_model not in ("logistic", "gbm"):
            raise ConfigError(f"--reward-model must be logistic or gbm, got {reward_model!r}")
        feedback = read_decision_log(log)
        if policy not in ("uniform", "bts") and Path(policy).is_file():
            # A policy file may name actions the log never showed.
            import pandas as pd

            try:
                named = pd.read_csv(policy, usecols=["action"])["action"]
            except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
                named = pd.Series([], dtype=float)  # read_policy reports what is wrong
            top = pd.to_numeric(named, errors="coerce").max()
            if top == top and 0 <= top < 1e6 and int(top) >= feedback.n_actions:
                feedback = dataclasses.replace(feedback, n_actions=int(top) + 1)
        dist, described = _policy_dist(
            policy, prior, campaign, feedback.n_actions, feedback.n_positions, n_sim, seed
        )
        spec = RewardModel(reward_model, per_position=per_position)  # type: ignore[arg-type]
        if select_reps == 1:
            raise ConfigError("--select-reps must be 0 (no simulation) or at least 2, got 1")
        selection = None
        with _progress(not as_json) as bar:

            def step(what: str) -> Callable[[int, int], None] | None:
                return None if bar is None else (lambda d, t: bar(what, "", d, t))

            if select_reps and len(dict.fromkeys(names)) > 1:
                selection = select_estimator(
                    feedback,
                    dist,
                    names,
                    reward_model=spec,
                    reps=select_reps,
                    progress=step("choosing the estimator"),
                )
            result = evaluate_policy(
                feedback,
                dist,
                names,
                reward_model=spec,
                n_bootstrap=bootstrap,
                refit=not fixed_model,
                seed=seed,
                progress=step("bootstrap"),
            )
        recommended = selection.chosen if selection is not None else RECOMMENDED
        logged = result.logged_value
        rows = []
        for e in result.estimates:
            row = e.to_dict()
            row["relative_to_logged"] = e.value / logged - 1 if logged else None
            rows.append(row)
        payload: dict[str, Any] = {
            "ok": True,
            "log": str(log),
            "policy": described,
            "rounds": result.n_rounds,
            "actions": feedback.n_actions,
            "positions": feedback.n_positions,
            "logged_value": logged,
            "reward_model": None
            if result.reward_model is None
            else dataclasses.asdict(result.reward_model),
            "bootstrap": bootstrap,
            "refit": result.refit,
            "recommended": recommended if recommended in names else None,
            "selection": None if selection is None else selection.to_dict(),
            "estimates": rows,
        }
        if as_json:
            _print_json(payload)
            return
        console.print(
            f"{result.n_rounds:,} rounds, {feedback.n_actions} actions, "
            f"{feedback.n_positions} position(s); logged mean reward {logged:.5g}; "
            f"policy: {described}",
            highlight=False,
        )
        grid = RichTable(title="Estimated value of the policy (mean reward per round)")
        for col in ("estimator", "estimate", "95% interval", "vs logged", "param"):
            grid.add_column(col, justify="left" if col == "estimator" else "right")
        for row in rows:
            name = str(row["estimator"])
            label = f"[bold]{name}[/bold] (recommended)" if name == recommended else name
            lo, hi = row["lower"], row["upper"]
            interval = "–" if lo is None or hi is None else f"[{lo:.5g}, {hi:.5g}]"
            rel = row["relative_to_logged"]
            param = row["param"]
            grid.add_row(
                label,
                f"{row['estimate']:.5g}",
                interval,
                "–" if rel is None else f"{rel:+.1%}",
                ""
                if name not in ("switch-dr", "dros")
                else ("∞" if param is None else f"{param:.3g}"),
            )
        console.print(grid)
        if selection is not None:
            rmse = selection.rmse
            ranked = sorted(rmse, key=rmse.__getitem__)
            runner = f"; next {ranked[1]} {rmse[ranked[1]]:.3f}" if len(ranked) > 1 else ""
            console.print(
                f"[bold]{selection.chosen}[/bold] is recommended for this log: over "
                f"{selection.reps} simulated reward draws it erred by {rmse[ranked[0]]:.3f} "
                f"(root mean squared, relative){runner}.",
                highlight=False,
            )
