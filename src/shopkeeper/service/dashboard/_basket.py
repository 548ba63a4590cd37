"""The baskets page: what sells together, the rules behind it, and bundles worth offering.

``/baskets`` shows the basket analysis in service (the latest ``basket`` job,
loaded once per process as for the API): headline counts, the strongest
association rules with product titles, a map of the rules (support against
confidence, coloured by lift), a network of the products bought together in
the most orders, and the bundle table with the discount that keeps the margin
floor. Before the first ``basket`` job the page says how to run one.

The network's nodes are placed by :func:`force_layout`, a Fruchterman–Reingold
layout computed here with numpy from a fixed seed, so the same analysis is
always drawn the same way (no graph library is needed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from fastapi import Request
from fastapi.responses import HTMLResponse

from shopkeeper.access import ApiKey
from shopkeeper.service.api.routes.basket import (
    ServedBasket,
    bundles_view,
    network_view,
    rules_view,
    served_basket,
)
from shopkeeper.service.dashboard import _charts as charts
from shopkeeper.service.dashboard._pages import PageResult, _page, _render, router
from shopkeeper.service.errors import ApiError

Translate = Callable[[str], str]

PATH = "/baskets"
RULE_ROWS = 20
#: Rules drawn on the rules map: enough to see the cloud, few enough to hover.
MAP_RULES = 500
BUNDLE_ROWS = 20
NETWORK_EDGES = 60
#: Products named on the network (the ones in the most orders); the rest on hover.
NETWORK_LABELS = 6
LAYOUT_SEED = 20_240_601
LAYOUT_STEPS = 300
#: Line widths of the network's edges, weakest lift band first.
EDGE_WIDTHS = (1.0, 2.0, 3.5, 5.5)
PALETTE = (
    charts.BLUE,
    charts.TEAL,
    charts.AMBER,
    charts.ROSE,
    "#7c3aed",
    "#0891b2",
    "#65a30d",
    "#db2777",
    "#ea580c",
    charts.SLATE,
)


# -- the network's layout ---------------------------------------------------------------------


def _components(n: int, edges: Sequence[tuple[int, int]]) -> list[list[int]]:
    """The graph's connected parts, the largest first (ties: the lowest node first)."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in edges:
        parent[root(a)] = root(b)
    parts: dict[int, list[int]] = {}
    for i in range(n):
        parts.setdefault(root(i), []).append(i)
    return sorted(parts.values(), key=lambda p: (-len(p), p[0]))


def _spring(
    n: int, src: np.ndarray, dst: np.ndarray, w: np.ndarray, rng: np.random.Generator, steps: int
) -> np.ndarray:
    """Fruchterman–Reingold positions of one connected graph, centred, within [-1, 1]."""
    if n == 1:
        return np.zeros((1, 2))
    angle = 2 * math.pi * np.arange(n) / n
    pos = np.column_stack([np.cos(angle), np.sin(angle)]) + rng.normal(0, 0.05, (n, 2))
    k = 2.0 / math.sqrt(n)  # the ideal distance in a 2 × 2 square
    for step in range(steps):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.maximum(np.linalg.norm(delta, axis=2), 1e-3)
        disp = (delta * (k * k / dist**2)[:, :, None]).sum(axis=1)
        d = pos[src] - pos[dst]
        length = np.maximum(np.linalg.norm(d, axis=1), 1e-3)
        pull = d * (length * w / k)[:, None]
        np.add.at(disp, src, -pull)
        np.add.at(disp, dst, pull)
        size = np.maximum(np.linalg.norm(disp, axis=1), 1e-9)
        temperature = 0.1 * (1 - step / steps) + 1e-3
        pos += disp / size[:, None] * np.minimum(size, temperature)[:, None]
    pos -= (pos.max(axis=0) + pos.min(axis=0)) / 2
    spread = float(np.abs(pos).max())
    return pos / spread if spread > 0 else pos


def force_layout(
    n: int,
    edges: Sequence[tuple[int, int]],
    weights: Sequence[float] | None = None,
    *,
    seed: int = LAYOUT_SEED,
    steps: int = LAYOUT_STEPS,
    aspect: float = 2.6,
) -> np.ndarray:
    """Positions (n × 2) of a graph's nodes: each connected part by Fruchterman–Reingold,
    the parts packed in centred rows, largest first, into a box about ``aspect`` times
    as wide as high. Coordinates are centred on 0 and scaled so that the largest is 1.

    In a part, nodes repel each other and edges pull their ends together
    (``weights`` scale the pull, 1 by default). Parts are laid out on their own
    because, in one simulation, repulsion flings the small ones to the edge and
    squeezes the large one into the middle. Each part is scaled to the same mean
    edge length and kept at least one and a half of it from the next, so all
    are drawn at about the same density. The start is a circle with a little
    jitter from ``seed`` and the step shrinks linearly: the same input always
    gives the same picture.
    """
    pos = np.zeros((n, 2))
    if n == 0:
        return pos
    rng = np.random.default_rng(seed)
    w_all = np.ones(len(edges)) if weights is None else np.asarray(weights, dtype=np.float64)
    margin = 1.5  # between parts, in mean edge lengths
    placed = []  # (nodes, local positions, cell width, cell height)
    for part in _components(n, edges):
        local = {node: i for i, node in enumerate(part)}
        inner = [j for j, (a, _) in enumerate(edges) if a in local]
        src = np.asarray([local[edges[j][0]] for j in inner], dtype=np.int64)
        dst = np.asarray([local[edges[j][1]] for j in inner], dtype=np.int64)
        spring = _spring(len(part), src, dst, w_all[inner], rng, steps)
        if len(src):
            mean_edge = float(np.linalg.norm(spring[src] - spring[dst], axis=1).mean())
            spring = spring / max(mean_edge, 1e-9)
        width, height = spring.max(axis=0) - spring.min(axis=0) + margin
        placed.append((part, spring, float(width), float(height)))
    area = sum(w * h for _, _, w, h in placed)
    row_width = max(max(w for _, _, w, _ in placed), math.sqrt(area * aspect))
    rows: list[list[tuple[list[int], np.ndarray, float, float]]] = [[]]
    for cell in placed:
        if rows[-1] and sum(c[2] for c in rows[-1]) + cell[2] > row_width:
            rows.append([])
        rows[-1].append(cell)
    top = 0.0
    for row in rows:
        x = (row_width - sum(c[2] for c in row)) / 2  # each row centred
        for part, spring, width, height in row:
            pos[part] = spring + np.array([x + width / 2, top - height / 2])
            x += width
        top -= max(c[3] for c in row)
    pos -= (pos.max(axis=0) + pos.min(axis=0)) / 2
    spread = float(np.abs(pos).max())
    return pos / spread if spread > 0 else pos


def _bands(lifts: Sequence[float]) -> tuple[list[int], list[float]]:
    """Each edge's lift band (0 = weakest) and the bands' lower edges, on log lift."""
    logs = np.log(np.maximum(np.asarray(lifts, dtype=np.float64), 1e-9))
    low, high = float(logs.min()), float(logs.max())
    count = len(EDGE_WIDTHS)
    if high - low < 1e-9:
        return [count - 1] * len(logs), [math.exp(low)]
    cut = np.linspace(low, high, count + 1)
    band = np.clip(np.searchsorted(cut, logs, side="right") - 1, 0, count - 1)
    return [int(b) for b in band], [math.exp(c) for c in cut[:-1]]


def _top_category(category: Any) -> str:
    text = str(category) if isinstance(category, str) and category else ""
    return text.split(">")[0].strip()


def _labelled(pos: np.ndarray, orders: np.ndarray) -> set[int]:
    """The nodes named on the chart: the most ordered first, skipping any whose name
    would run into one already placed (names are wide and short, hence the box)."""
    chosen: list[int] = []
    for i in np.argsort(-orders, kind="stable").tolist():
        dx = np.abs(pos[chosen, 0] - pos[i, 0]) if chosen else np.zeros(0)
        dy = np.abs(pos[chosen, 1] - pos[i, 1]) if chosen else np.zeros(0)
        if not np.any((dx < 0.45) & (dy < 0.12)):
            chosen.append(i)
        if len(chosen) == NETWORK_LABELS:
            break
    return set(chosen)


def network_chart(
    graph: Mapping[str, Any], categories: Mapping[str, str], t: Translate
) -> str | None:
    """Products bought together: a dot per product (size by orders, colour by top
    category), a line per pair (width by lift), titles and figures on hover."""
    nodes, links = list(graph["nodes"]), list(graph["edges"])
    if not nodes or not links:
        return None
    index = {str(node["id"]): i for i, node in enumerate(nodes)}
    pairs = [(index[str(e["source"])], index[str(e["target"])]) for e in links]
    lifts = [float(e["lift"]) for e in links]
    top_lift = max(math.log1p(x) for x in lifts) or 1.0
    # Stronger pairs pull harder, so products that belong together sit together.
    pos = force_layout(len(nodes), pairs, [0.5 + math.log1p(x) / top_lift for x in lifts])
    titles = [str(node["title"]) for node in nodes]
    band_of, band_low = _bands(lifts)
    fig = go.Figure()
    for band in sorted(set(band_of)):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for (a, b), own in zip(pairs, band_of, strict=True):
            if own == band:
                xs += [float(pos[a, 0]), float(pos[b, 0]), None]
                ys += [float(pos[a, 1]), float(pos[b, 1]), None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=f"{t('basket.lift')} ≥ {band_low[band]:,.1f}",
                line={"color": charts.SLATE, "width": EDGE_WIDTHS[band]},
                opacity=0.35 + 0.15 * band,
                hoverinfo="skip",
                showlegend=False,
            )
        )
    # Lines take no hover of their own between their ends: a mark at each middle does.
    fig.add_trace(
        go.Scatter(
            x=[float(pos[a, 0] + pos[b, 0]) / 2 for a, b in pairs],
            y=[float(pos[a, 1] + pos[b, 1]) / 2 for a, b in pairs],
            mode="markers",
            marker={"size": 10, "color": charts.SLATE, "opacity": 0},
            customdata=[
                [titles[a], titles[b], float(e["lift"]), int(e["orders"])]
                for (a, b), e in zip(pairs, links, strict=True)
            ],
            hovertemplate=(
                "%{customdata[0]}<br>↔ %{customdata[1]}<br>"
                + t("basket.lift")
                + " %{customdata[2]:,.2f} · "
                + t("basket.orders_together")
                + " %{customdata[3]:,}<extra></extra>"
            ),
            showlegend=False,
        )
    )
    orders = np.asarray([float(node["orders"]) for node in nodes])
    most = float(orders.max()) or 1.0
    labelled = _labelled(pos, orders)
    groups: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        groups.setdefault(categories.get(str(node["id"]), ""), []).append(i)
    order = sorted(groups, key=lambda g: (g == "", -len(groups[g]), g))
    for number, group in enumerate(order):
        members = groups[group]
        fig.add_trace(
            go.Scatter(
                x=[float(pos[i, 0]) for i in members],
                y=[float(pos[i, 1]) for i in members],
                mode="markers+text",
                name=group or t("basket.no_category"),
                text=[charts._short(titles[i], "", 22) if i in labelled else "" for i in members],
                textposition="top center",
                textfont={"size": 10},
                marker={
                    "size": [8 + 22 * math.sqrt(orders[i] / most) for i in members],
                    "color": PALETTE[number % len(PALETTE)],
                    "line": {"color": "#ffffff", "width": 1},
                },
                customdata=[[titles[i], str(nodes[i]["id"]), int(orders[i])] for i in members],
                hovertemplate=(
                    "%{customdata[0]}<br>%{customdata[1]}<br>"
                    + t("basket.orders")
                    + " %{customdata[2]:,}<extra></extra>"
                ),
            )
        )
    hidden = {"visible": False, "showgrid": False, "zeroline": False}
    # No common scale on the axes: the layout is packed about as wide as the chart,
    # and stretching it to fill the chart spreads out the crowded middle of a part.
    fig.update_layout(
        xaxis=hidden,
        yaxis=hidden,
        hovermode="closest",
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "font": {"size": 11}},
    )
    return charts._style(fig, height=560, left=12, right=12, top=56, grid=False)


def steps_125(low: float, high: float) -> list[float]:
    """The values 1, 2 and 5 times a power of ten from ``low`` to ``high`` (both > 0).

    Ticks for a log axis: Plotly's own put a label at every digit of a decade,
    which run into each other on a short axis.
    """
    if not 0 < low <= high:
        return []
    out = []
    for power in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for digit in (1, 2, 5):
            value = digit * 10.0**power
            if low <= value * (1 + 1e-9) and value <= high * (1 + 1e-9):
                out.append(value)
    return out


def rules_chart(rules: Sequence[Mapping[str, Any]], t: Translate) -> str | None:
    """Every rule as a dot: support (log scale) against confidence, coloured by lift."""
    if not rules:
        return None

    def side(titles: Sequence[str]) -> str:
        return " + ".join(charts._short(x, "", 28) for x in titles)

    support = [float(r["support"]) for r in rules]
    lifts = [max(float(r["lift"]), 1e-9) for r in rules]
    # Lift spans orders of magnitude: coloured on its log, labelled in plain values.
    marks = steps_125(min(lifts), max(lifts)) or [min(lifts)]
    fig = go.Figure(
        go.Scatter(
            x=support,
            y=[r["confidence"] for r in rules],
            mode="markers",
            marker={
                "size": 9,
                "color": [math.log10(x) for x in lifts],
                "colorscale": [[0, "#bfdbfe"], [0.5, charts.BLUE], [1, "#1e3a8a"]],
                "colorbar": {
                    "title": {"text": t("basket.lift")},
                    "thickness": 12,
                    "tickvals": [math.log10(x) for x in marks],
                    "ticktext": [f"{x:g}" for x in marks],
                },
                "line": {"color": "#ffffff", "width": 0.5},
            },
            customdata=[
                [side(r["antecedent_titles"]), side(r["consequent_titles"]), float(r["lift"])]
                for r in rules
            ],
            hovertemplate=(
                "%{customdata[0]}<br>→ %{customdata[1]}<br>"
                + t("basket.support")
                + " %{x:.3%} · "
                + t("basket.confidence")
                + " %{y:.1%} · "
                + t("basket.lift")
                + " %{customdata[2]:,.2f}<extra></extra>"
            ),
        )
    )
    fig.update_layout(
        xaxis={
            "type": "log",
            "title": {"text": t("basket.support")},
            "tickmode": "array",
            "tickvals": steps_125(min(support) * 0.7, max(support) * 1.5),
            "tickformat": ".2~%",
        },
        yaxis={"title": {"text": t("basket.confidence")}, "tickformat": ".0%", "range": [0, 1.05]},
    )
    return charts._style(fig, height=360, legend=False)


# -- the page ------------------------------------------------------------------------------------


def _cards(served: ServedBasket) -> list[dict[str, Any]]:
    """The headline counts: (name, value)."""
    m = served.analysis.metrics()
    figures = (
        ("orders", m["baskets"]),
        ("itemsets", m["itemsets"]),
        ("rules", m["rules"]),
        ("bundles", m["bundles"]),
    )
    return [{"name": n, "value": v} for n, v in figures]


def page_context(request: Request, t: Translate) -> dict[str, Any]:
    """What the template shows; ``served`` is None before the first basket job."""
    try:
        served = served_basket(request.app.state.workspace)
    except ApiError as exc:  # an analysis that cannot be loaded: say so on the page
        return {"served": None, "error": exc.message}
    if served is None:
        return {"served": None, "error": None}
    a = served.analysis
    top = rules_view(served, limit=RULE_ROWS, sort_by="lift")
    mapped = rules_view(served, limit=MAP_RULES, sort_by="support")
    categories = {
        str(p): _top_category(c)
        for p, c in zip(a.catalog["product_id"], a.catalog["category"], strict=True)
    }
    chart_set = {
        "network": network_chart(network_view(served, NETWORK_EDGES), categories, t),
        "rules": rules_chart(mapped["rules"], t),
    }
    return {
        "served": served,
        "error": None,
        "period": a.period,
        "settings": a.settings,
        "cards": _cards(served),
        "rules": top["rules"],
        "rules_total": top["total"],
        "bundles": bundles_view(served, BUNDLE_ROWS)["bundles"],
        "bundles_total": len(a.bundles),
        "notes": list(a.notes),
        "charts": chart_set,
        "network_edges": NETWORK_EDGES,
        "map_rules": min(MAP_RULES, top["total"]),
    }


@router.get(PATH, response_class=HTMLResponse)
def baskets_page(request: Request) -> PageResult:
    def build(key: ApiKey, t: Translate) -> PageResult:
        context = page_context(request, t)
        return _render(
            request,
            "baskets.html",
            key=key,
            page="baskets",
            title_key="basket.title",
            has_charts=any((context.get("charts") or {}).values()),
            **context,
        )

    return _page(request, build)
