"""Price-bandit benchmark: regret on the default demo shop, beside mabwiser.

The default demo shop (seed 7) is generated and its best sellers at list
price become the products of the price bandit (``shopkeeper.decide._pricing_sim``:
Poisson visitors, a purchase chance that follows the planted constant
elasticity, margin as the reward, the arms the default guardrails' grid).
Each seed draws new visitors; every policy, ours and mabwiser's, meets the
same visitors with the same uniform draws deciding who buys at which price,
and regret is the expected one against the best grid price.

mabwiser 2.7.4 runs in its own virtual environment (``bench/.work/mab-venv``,
created here when missing) through this same file in worker mode, since it
would pull its own pins of pandas and scikit-learn into the project's
environment. Its policies are told the same things ours are: UCB1's ``alpha``
and LinUCB's ``alpha`` are the largest margin (our ``scale``), epsilon is
0.1, LinUCB sees one constant feature, and its Thompson sampling, which
takes 0/1 rewards only, gets a margin turned into a success with chance
``margin / largest margin`` (so its best arm is still the best margin). Each
of its policies first fits one visitor per arm in turn (it will not predict
before a fit); then, like ours, it predicts one visitor and learns from them.

Time per decision is the wall time of one choice plus one update, over all
visitors; the slate timing is one ``choose_slate`` of 3 positions with its
probabilities estimated from 1,000 draws.

    python bench/bandit_bench.py [--products 6] [--seeds 0,1,2] [--days 90]

Writes ``bench/results/bandits.md`` and ``bandits.json``.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
MAB_VENV = HERE / ".work" / "mab-venv"
MAB_VERSION = "2.7.4"
OURS = (
    "fixed",
    "greedy",
    "thompson",
    "thompson-uncapped",
    "gaussian-thompson",
    "epsilon-greedy",
    "ucb",
    "linucb",
)
MAB_POLICIES = ("ThompsonSampling", "UCB1", "EpsilonGreedy", "LinUCB")
# The policy of ours each of mabwiser's is compared with.
COUNTERPART = {
    "ThompsonSampling": "thompson-uncapped",
    "UCB1": "ucb",
    "EpsilonGreedy": "epsilon-greedy",
    "LinUCB": "linucb",
}


# --- the worker, run by mabwiser's interpreter (no shopkeeper there) --------------------------


def _reward(
    values: np.ndarray,
    chance: np.ndarray,
    uniforms: np.ndarray,
    coin: np.ndarray,
    i: int,
    a: int,
    *,
    binary: bool,
) -> float:
    """Visitor ``i``'s margin at arm ``a``; for a 0/1 learner, a success with its share."""
    r = float(values[a]) if uniforms[i] < chance[a] else 0.0
    return float(coin[i] < r / float(values.max())) if binary else r


def mab_worker(source: Path, target: Path) -> None:
    from mabwiser.mab import MAB, LearningPolicy

    data = np.load(source)
    runs = json.loads(str(data["runs"]))
    out: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {name: 0.0 for name in MAB_POLICIES}
    decisions = 0
    for key in runs:
        values, chance, uniforms = data[f"{key}/values"], data[f"{key}/chance"], data[f"{key}/u"]
        top = float(values.max())
        arms = list(range(len(values)))
        decisions += len(uniforms)
        for name in MAB_POLICIES:
            seed = zlib.crc32(f"{key}/{name}".encode())
            coin = np.random.default_rng(seed).random(len(uniforms))
            policy = {
                "ThompsonSampling": LearningPolicy.ThompsonSampling(),
                "UCB1": LearningPolicy.UCB1(alpha=top),
                "EpsilonGreedy": LearningPolicy.EpsilonGreedy(epsilon=0.1),
                "LinUCB": LearningPolicy.LinUCB(alpha=top),
            }[name]
            mab = MAB(arms, policy, seed=seed % 2**31)
            ctx = [[1.0]] if name == "LinUCB" else None

            binary = name == "ThompsonSampling"
            reward = functools.partial(_reward, values, chance, uniforms, coin, binary=binary)

            shown = np.empty(len(uniforms), dtype=np.int64)
            started = time.perf_counter()
            k = len(arms)
            first = list(range(min(k, len(uniforms))))
            shown[: len(first)] = first
            mab.fit(
                first,
                [reward(i, a) for i, a in enumerate(first)],
                [[1.0]] * len(first) if ctx else None,
            )
            for i in range(len(first), len(uniforms)):
                a = mab.predict(ctx)
                a = int(a[0] if isinstance(a, list) else a)
                shown[i] = a
                mab.partial_fit([a], [reward(i, a)], ctx)
            seconds[name] += time.perf_counter() - started
            out[f"{key}/{name}"] = shown
    np.savez(target, **out)
    target.with_suffix(".json").write_text(
        json.dumps({n: s / max(decisions, 1) for n, s in seconds.items()})
    )


# --- the benchmark ----------------------------------------------------------------------------


def ensure_venv(log: Any) -> Path | None:
    python = MAB_VENV / "bin" / "python"
    if python.exists():
        return python
    log(f"creating {MAB_VENV} with mabwiser {MAB_VERSION}")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(MAB_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"mabwiser=={MAB_VERSION}"],
            check=True,
            timeout=900,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        log(f"mabwiser unavailable: {exc}")
        return None
    return python


def time_policies(log: Any) -> list[dict[str, Any]]:
    """Time per decision of ``choose`` and a 3-slot ``choose_slate``, at 10 and 100 actions."""
    from shopkeeper.decide._bandits import (
        UCB1,
        BernoulliThompson,
        EpsilonGreedy,
        GaussianThompson,
        LinearThompson,
        LinUCB,
        LogisticThompson,
    )

    rows = []
    for k in (10, 100):
        names = [f"a{i}" for i in range(k)]
        makers = {
            "bernoulli-thompson": lambda n=names: BernoulliThompson(n),
            "gaussian-thompson": lambda n=names: GaussianThompson(n),
            "ucb": lambda n=names: UCB1(n),
            "epsilon-greedy": lambda n=names: EpsilonGreedy(n),
            "linucb (5 features)": lambda n=names: LinUCB(n, 5),
            "linear-thompson (5 features)": lambda n=names: LinearThompson(n, 5),
            "logistic-thompson (5 features)": lambda n=names: LogisticThompson(n, 5),
        }
        rng = np.random.default_rng(0)
        for label, make in makers.items():
            policy = make()
            x = np.ones(policy.n_features) if policy.n_features else None
            for a in range(k):
                policy.update(a, float(rng.random() < 0.3), x)
            reps = 200
            started = time.perf_counter()
            for _ in range(reps):
                policy.choose(x, rng)
            choose = (time.perf_counter() - started) / reps
            started = time.perf_counter()
            for _ in range(reps):
                policy.choose_slate(x, 3, rng)
            slate = (time.perf_counter() - started) / reps
            rows.append(
                {"actions": k, "policy": label, "choose_ms": choose * 1e3, "slate_ms": slate * 1e3}
            )
    log("timed choose and choose_slate")
    return rows


def main() -> None:
    from shopkeeper.decide._guardrails import PriceGuardrails
    from shopkeeper.decide._pricing_sim import (
        POLICIES,
        demo_products,
        price_environment,
        run_policy,
        simulate_price_bandit,
    )
    from shopkeeper.demo import DemoConfig, generate

    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=6)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--no-mabwiser", action="store_true")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    began = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - began:6.1f} s] {msg}", flush=True)

    shop = generate(DemoConfig())
    products = demo_products(shop, count=args.products)
    log(f"demo shop generated; {len(products)} products")
    rails = PriceGuardrails()

    # Ours: the whole simulation, then each learner timed on one seed's visitors.
    started = time.perf_counter()
    result = simulate_price_bandit(products, days=args.days, seeds=seeds, policies=OURS)
    log(f"shopkeeper policies simulated in {time.perf_counter() - started:.0f} s")
    per_decision: dict[str, float] = {}
    envs = {
        (seed, p.product_id): price_environment(p, seed, days=args.days, guardrails=rails)
        for seed in seeds
        for p in products
    }
    first = [e for (s, _), e in envs.items() if s == seeds[0]]
    for name in OURS[1:]:
        total, count = 0.0, 0
        for env in first:
            started = time.perf_counter()
            run_policy(env, POLICIES[name](env, rails), np.random.default_rng(0))
            total += time.perf_counter() - started
            count += len(env.uniforms)
        per_decision[name] = total / count

    # mabwiser on the same visitors.
    mab: dict[str, Any] = {"skipped": "not run (--no-mabwiser)"}
    python = None if args.no_mabwiser else ensure_venv(log)
    if python is not None:
        mab = run_mabwiser(python, envs, log)

    timings = time_policies(log)
    report = build_report(result, per_decision, mab, timings, products, seeds, args.days)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bandits.md").write_text(report["markdown"])
    (RESULTS / "bandits.json").write_text(json.dumps(report["json"], indent=2))
    log("wrote bench/results/bandits.md")


def run_mabwiser(python: Path, envs: dict[tuple[int, str], Any], log: Any) -> dict[str, Any]:
    arrays: dict[str, Any] = {}
    keys = []
    for (seed, pid), env in envs.items():
        key = f"{seed}:{pid}"
        keys.append(key)
        arrays[f"{key}/values"] = env.values
        arrays[f"{key}/chance"] = env.buy_chance
        arrays[f"{key}/u"] = env.uniforms
    with tempfile.TemporaryDirectory(prefix="shopkeeper-mab-") as tmp:
        source, target = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(source, runs=np.array(json.dumps(keys)), **arrays)
        started = time.perf_counter()
        done = subprocess.run(
            [str(python), __file__, "--mabwiser-worker", str(source), str(target)],
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if done.returncode != 0:
            return {"skipped": f"failed: {done.stderr[-800:]}"}
        log(f"mabwiser ran in {time.perf_counter() - started:.0f} s")
        shown = dict(np.load(target))
        seconds = json.loads(target.with_suffix(".json").read_text())
    regret: dict[str, list[float]] = {name: [] for name in MAB_POLICIES}
    for name in MAB_POLICIES:
        by_seed: dict[int, float] = {}
        for (seed, pid), env in envs.items():
            arms = shown[f"{seed}:{pid}/{name}"]
            by_seed[seed] = by_seed.get(seed, 0.0) + float(env.daily_regret(arms).sum())
        regret[name] = list(by_seed.values())
    return {"regret": regret, "per_decision_s": seconds}


def build_report(
    result: Any,
    per_decision: dict[str, float],
    mab: dict[str, Any],
    timings: list[dict[str, Any]],
    products: list[Any],
    seeds: list[int],
    days: int,
) -> dict[str, Any]:
    final = result.summary.final
    optimal = result.summary.optimal
    curve = result.curve()
    lines = [
        "# Price bandit: regret on the demo shop",
        "",
        f"Default demo shop (seed 7), its {len(products)} best sellers at list price, "
        f"{days} days, seeds {', '.join(map(str, seeds))}; visitors Poisson with mean "
        "units / 0.05, a purchase chance 0.05 x (price / list) ** elasticity, reward the "
        "margin, arms the default guardrails' 7-point grid (0.8-1.2 x list, margin floor 5%). "
        "Regret is expected margin lost against the best grid price, summed over products: "
        "mean ± sd over seeds (min-max). Generated by `python bench/bandit_bench.py`.",
        "",
        f"Platform: {platform.platform()}, Python {platform.python_version()}. "
        f"The best grid price's expected margin over the run: {optimal:,.0f}.",
        "",
        "| product | list | cost | elasticity | units/day | best grid price |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    from shopkeeper.decide._pricing_sim import price_environment

    for p in products:
        env = price_environment(p, seeds[0], days=1)
        lines.append(
            f"| {p.product_id} | {p.reference:.2f} | {p.cost:.2f} | {p.elasticity:g} | "
            f"{p.daily_units:.2f} | {env.prices[env.best]:.2f} "
            f"({env.prices[env.best] / p.reference:.2f} x) |"
        )
    lines += [
        "",
        "## Cumulative regret at the end",
        "",
        "| policy | regret | share of optimal | µs per decision |",
        "|---|---:|---:|---:|",
    ]
    rows_json: dict[str, Any] = {}
    for name, row in final.iterrows():
        us = per_decision.get(str(name))
        lines.append(
            f"| shopkeeper `{name}` | {row['regret']:,.0f} ± {row['sd']:,.0f} "
            f"({row['low']:,.0f}-{row['high']:,.0f}) | {row['share']:.1%} | "
            f"{'-' if us is None else f'{us * 1e6:.0f}'} |"
        )
        rows_json[str(name)] = {**{k: float(v) for k, v in row.items()}, "per_decision_s": us}
    if "regret" in mab:
        for name in MAB_POLICIES:
            r = np.array(mab["regret"][name])
            ours = COUNTERPART[name]
            ratio = mab["per_decision_s"][name] / per_decision[ours]
            sd = r.std(ddof=1) if len(r) > 1 else 0.0
            lines.append(
                f"| mabwiser `{name}` | {r.mean():,.0f} ± {sd:,.0f} "
                f"({r.min():,.0f}-{r.max():,.0f}) | {r.mean() / optimal:.1%} | "
                f"{mab['per_decision_s'][name] * 1e6:.0f} ({ratio:.1f}x `{ours}`) |"
            )
    else:
        lines.append(f"| mabwiser | {mab.get('skipped')} | | |")
    lines += ["", "## Cumulative regret by day (mean over seeds)", ""]
    marks = [d for d in (9, 29, 59, days - 1) if d < days]
    lines.append("| policy | " + " | ".join(f"day {d + 1}" for d in marks) + " |")
    lines.append("|---|" + "---:|" * len(marks))
    for name in final.index:
        c = curve[curve["policy"] == name].set_index("day")["mean"]
        lines.append(f"| `{name}` | " + " | ".join(f"{c[d]:,.0f}" for d in marks) + " |")
    lines += [
        "",
        "## Time per decision (one choice with its logged probability)",
        "",
        "| actions | policy | choose (ms) | slate of 3 (ms) |",
        "|---:|---|---:|---:|",
    ]
    for t in timings:
        lines.append(
            f"| {t['actions']} | {t['policy']} | {t['choose_ms']:.3f} | {t['slate_ms']:.3f} |"
        )
    lines.append("")
    return {
        "markdown": "\n".join(lines),
        "json": {
            "products": [p.__dict__ for p in products],
            "seeds": seeds,
            "days": days,
            "optimal": optimal,
            "shopkeeper": rows_json,
            "mabwiser": mab,
            "timings": timings,
        },
    }


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--mabwiser-worker":
        mab_worker(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
