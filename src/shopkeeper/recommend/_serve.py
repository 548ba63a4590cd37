"""Serving: a trained recommender plus the shop's rules, answering one request at a time.

:class:`Recommendations` is the artifact of the ``recommend`` job and what the
CLI and the API answer from. Scoring comes from the fitted model; the
:class:`ServingRules` then decide what may be shown, in this order:

1. **Eligibility**: inactive products are never shown; with inventory rows, a
   product with nothing on hand is not shown (products without inventory rows
   are taken as available); a category filter keeps one category (prefix).
2. **Consent and cold start**: a customer who declined personalisation, or one
   with no history (new or unknown), gets the non-personal list (recent
   popularity). A declined customer's list is exactly the anonymous one:
   nothing of theirs is read, not even their purchases for the repurchase
   rules. :meth:`Recommendations.answer` given a store reads the consent from
   it at every request (a decline counts from the next answer, a consent
   given back too); without a store, the consent read at training is used.
3. **Repurchase rules** per category (prefix match): ``durable`` products a
   customer bought are not shown again; ``consumable`` ones are shown again
   once due, i.e. when the days since the customer's last purchase reach
   ``due_fraction`` of the product's typical repurchase cycle (the median,
   over customers who bought it more than once, of their mean gap between
   purchases: ``Interactions.item_cycle_days``); ``allow`` shows them freely.
4. **Business boosts**, explicit and off by default: ``margin_boost`` multiplies
   a score by ``1 + margin_boost * margin_share`` (margin share = (price - cost)
   / price); ``new_arrival_boost`` adds to products first sold within
   ``new_arrival_days`` of the data's end, or never sold.
5. **Diversity**: at most ``max_per_category`` products of one category in a list.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shopkeeper.errors import ConfigError, NotFoundError
from shopkeeper.recommend._base import Recommender, normalise_rows
from shopkeeper.recommend._data import Interactions
from shopkeeper.recommend._hybrid import Hybrid
from shopkeeper.recommend._popular import Popularity
from shopkeeper.store import Store

Repurchase = Literal["allow", "durable", "consumable"]
#: Version of the pickled artifact; bump it when a model's fitted state changes
#: shape, so that an old artifact asks for retraining instead of failing oddly.
FORMAT = 4
_REPURCHASE = ("allow", "durable", "consumable")


@dataclass
class ServingRules:
    """The shop's knobs over what a list may hold; see the module doc for each."""

    repurchase_default: str = "allow"
    durable_categories: tuple[str, ...] = ()
    consumable_categories: tuple[str, ...] = ()
    due_fraction: float = 0.8
    max_per_category: int | None = 3
    margin_boost: float = 0.0
    new_arrival_boost: float = 0.0
    new_arrival_days: int = 30
    in_stock_only: bool = True

    def __post_init__(self) -> None:
        if self.repurchase_default not in _REPURCHASE:
            raise ConfigError(
                f"repurchase_default must be one of {', '.join(_REPURCHASE)}, "
                f"not {self.repurchase_default!r}"
            )
        if self.max_per_category is not None and self.max_per_category < 1:
            raise ConfigError("max_per_category must be at least 1 (or null for no limit)")
        if self.margin_boost < 0 or self.new_arrival_boost < 0:
            raise ConfigError("boosts must be non-negative")
        self.durable_categories = tuple(self.durable_categories)
        self.consumable_categories = tuple(self.consumable_categories)

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> ServingRules:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(params or {}) - known)
        if unknown:
            raise ConfigError(
                f"unknown serving rule(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return cls(**dict(params or {}))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def repurchase(self, category: str | None) -> str:
        cat = category or ""
        # The longest matching prefix wins, so "Home > Kitchen > Coffee" can be
        # consumable inside a durable "Home".
        best, rule = -1, self.repurchase_default
        for prefixes, kind in (
            (self.durable_categories, "durable"),
            (self.consumable_categories, "consumable"),
        ):
            for p in prefixes:
                if cat.startswith(p) and len(p) > best:
                    best, rule = len(p), kind
        return rule


@dataclass
class Recommendation:
    product_id: str
    score: float
    reason: str
    title: str | None = None
    category: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # Spelled out: dataclasses.asdict deep-copies, a cost on every request.
        return {
            "product_id": self.product_id,
            "score": self.score,
            "reason": self.reason,
            "title": self.title,
            "category": self.category,
        }


@dataclass
class Recommendations:
    """A fitted model, the data it was fitted on and the shop's rules."""

    model: Recommender
    fallback: Recommender
    data: Interactions
    catalog: pd.DataFrame
    rules: ServingRules
    stock: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    no_consent: set[str] = field(default_factory=set)
    similar_model: Recommender | None = None
    content_model: Recommender | None = None
    session_model: Recommender | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    #: Weights of browse events, as in training (None: the defaults).
    event_weights: dict[str, float] | None = None
    #: True only inside a saved file whose customers are pseudonymous keys (see save).
    pseudonymous: bool = False

    def __post_init__(self) -> None:
        self._prepare()

    # -- preparation --------------------------------------------------------

    def _prepare(self) -> None:
        cat = self.catalog.set_index(self.catalog["product_id"].astype(str)).reindex(
            self.data.items
        )
        self._titles = cat["title"].to_numpy(dtype=object)
        self._categories = cat["category"].to_numpy(dtype=object)
        active = cat["active"].map(lambda v: v is not False and v != 0).to_numpy(dtype=bool)
        listed = cat["title"].notna().to_numpy()
        eligible = active & listed
        if self.rules.in_stock_only and len(self.stock):
            on_hand = self.stock.reindex(self.data.items).to_numpy(dtype=float)
            eligible &= np.isnan(on_hand) | (on_hand > 0)
        self._eligible = eligible
        price = pd.to_numeric(cat["price"], errors="coerce").to_numpy(dtype=float)
        cost = pd.to_numeric(cat["cost"], errors="coerce").to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            margin = np.where(price > 0, (price - cost) / price, np.nan)
        self._margin = np.nan_to_num(np.clip(margin, 0.0, 1.0), nan=0.0)
        self._rule = np.array([self.rules.repurchase(c) for c in self._categories], dtype=object)
        self._prepare_history()
        self._prepare_bought_together()

    def _prepare_history(self) -> None:
        log = self.data.log
        bought = log[log["purchase"]]
        end = log["at"].max() if len(log) else pd.Timestamp("1970-01-01")
        self._end = pd.Timestamp(end)
        first_sale = bought.groupby("item")["at"].min()
        first = np.full(self.data.n_items, np.datetime64("NaT"), dtype="datetime64[ns]")
        first[first_sale.index.to_numpy()] = first_sale.to_numpy()
        cutoff = np.datetime64(self._end - pd.Timedelta(days=self.rules.new_arrival_days))
        self._new = np.isnat(first) | (first >= cutoff)
        # The log's rows by customer: a request folding in new activity reads
        # one customer's rows by position.
        self._user_order = np.argsort(log["user"].to_numpy(), kind="stable")
        self._user_sorted = log["user"].to_numpy()[self._user_order]
        self._cycle = self.data.item_cycle_days()
        self._bought = self.data.purchase_counts()
        # Day of each customer's last purchase of each product, for the "due" rule.
        rep = self.data.repurchases()
        days = rep["last"].to_numpy().astype("datetime64[s]").astype(np.float64) / 86400.0
        self._last_day = sp.csr_matrix(
            (days, (rep["user"].to_numpy(), rep["item"].to_numpy())),
            shape=(self.data.n_users, self.data.n_items),
        )

    def _prepare_bought_together(self) -> None:
        log = self.data.log
        bought = log[log["purchase"]].drop_duplicates(["occasion", "item"])
        occ = pd.factorize(bought["occasion"])[0]
        baskets = sp.csr_matrix(
            (np.ones(len(bought), dtype=np.float32), (occ, bought["item"].to_numpy())),
            shape=(int(occ.max()) + 1 if len(occ) else 0, self.data.n_items),
        )
        self._pair_counts = sp.csr_matrix(baskets.T @ baskets)
        self._item_baskets = np.asarray(baskets.sum(axis=0)).ravel()
        self._n_baskets = baskets.shape[0]

    def __getstate__(self) -> dict[str, Any]:
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        state["_format"] = FORMAT
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        found = state.pop("_format", None)
        if found != FORMAT:
            raise ConfigError(
                f"the recommender artifact has format {found}, this shopkeeper reads {FORMAT}; "
                "retrain it with 'shopkeeper train recommend'"
            )
        for key, value in state.items():
            setattr(self, key, value)
        self._prepare()

    # -- persistence -----------------------------------------------------

    def save(
        self, path: Path, pseudonymize: Callable[[list[str]], list[str]] | None = None
    ) -> None:
        """Write the model to ``path``.

        With ``pseudonymize`` (the store's keyed hash, ``Pseudonymizer.many``)
        the file names customers only by their pseudonymous keys: the ids are
        swapped for keys while pickling (in place, so every model sharing the
        id array sees them) and swapped back after. :meth:`load` with the store
        maps them back.
        """
        if pseudonymize is None:
            path.write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))
            return
        users = self.data.users
        ids = users.copy()
        declined = self.no_consent
        try:
            users[:] = np.asarray(pseudonymize([str(u) for u in ids]), dtype=object)
            self.no_consent = set(pseudonymize(sorted(declined)))
            self.pseudonymous = True
            self.data.forget_lookups()
            body = pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            users[:] = ids
            self.no_consent = declined
            self.pseudonymous = False
            self.data.forget_lookups()
        path.write_bytes(body)

    @staticmethod
    def load(path: Path, store: Store | None = None) -> Recommendations:
        """The model saved at ``path``; a pseudonymous one needs its ``store`` to name
        customers again. Customers the store no longer holds (erased) stay
        unreachable: no id leads to their rows, and they are never personal."""
        try:
            obj = pickle.loads(path.read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            raise ConfigError(f"cannot read the recommender artifact {path}: {exc}") from exc
        if not isinstance(obj, Recommendations):
            raise ConfigError(f"{path} is not a shopkeeper recommender artifact")
        if getattr(obj, "pseudonymous", False):
            if store is None:
                raise ConfigError(
                    f"{path} names customers by pseudonymous keys: load it with its store"
                )
            from shopkeeper.privacy import customer_keys

            back = customer_keys(store)
            users = obj.data.users
            gone = {str(k) for k in users if k not in back}
            # An erased customer's key becomes a name no request can send.
            users[:] = np.asarray([back.get(k, f"\x00erased {k}") for k in users], dtype=object)
            obj.no_consent = {back[k] for k in obj.no_consent if k in back}
            obj.no_consent |= {f"\x00erased {k}" for k in gone}
            obj.pseudonymous = False
            obj.data.forget_lookups()
        return obj

    # -- lookups -------------------------------------------------------------

    def _item(self, product_id: str) -> int:
        code = int(self.data.item_codes([str(product_id)])[0])
        if code < 0:
            raise NotFoundError(f"product {product_id!r} is not in the catalog the model knows")
        return code

    def _code(self, customer_id: str) -> int:
        """The model's row of a customer, -1 when it never saw them.

        The one place serving maps a customer id to the model's key, so that a
        model keyed otherwise (pseudonymous keys) changes only this.
        """
        return int(self.data.user_codes([str(customer_id)])[0])

    def declined(self, customer_id: str) -> bool:
        """Whether the customer had declined personalisation when the model was trained."""
        return str(customer_id) in self.no_consent

    def knows_customer(self, customer_id: str) -> bool:
        return self._code(customer_id) >= 0

    def history(self, customer_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The customer's purchases and browse events the model learned from, latest first."""
        code = self._code(customer_id)
        if code < 0:
            return []
        rows = self.data.log.iloc[self._rows_of(code)]
        rows = rows.sort_values("at", ascending=False).head(limit)
        return [
            {
                "product_id": str(self.data.items[i]),
                "title": self._titles[i],
                "category": self._categories[i],
                "at": pd.Timestamp(at).isoformat(),
                "kind": "purchase" if bought else "browse",
            }
            for i, at, bought in zip(rows["item"], rows["at"], rows["purchase"], strict=True)
        ]

    # -- answers -------------------------------------------------------------

    def for_customer(
        self,
        customer_id: str,
        n: int = 10,
        *,
        category: str | None = None,
        max_per_category: int | None = None,
        now: pd.Timestamp | None = None,
        recent: pd.DataFrame | None = None,
        declined: bool | None = None,
    ) -> list[Recommendation]:
        """The customer's list, after every serving rule.

        ``recent`` holds what the customer did since training (columns
        ``product_id``, ``at``, ``weight``, ``purchase`` and ``occasion``, as
        :meth:`recent_frame` builds them): it is folded into their history for
        this answer, without retraining, so a product viewed a minute ago
        already shapes the list.

        ``declined`` is whether the customer declines personalisation now (as
        the store says); None takes the answer read at training. A declined
        customer gets exactly the anonymous list: neither their history nor
        ``recent`` is read.
        """
        if n < 1:
            raise ConfigError("n must be at least 1")
        refused = self.declined(customer_id) if declined is None else declined
        # Declined: served as a stranger, so nothing of theirs shapes the list.
        code = -1 if refused else self._code(customer_id)
        data, user = self.data, code
        if recent is not None and len(recent) and not refused:
            data, user = self._folded(str(customer_id), code, recent), 0
        personal = user >= 0 and data.n_occasions()[user] > 0
        parts: list[tuple[Recommender, np.ndarray]] = []
        if personal:
            parts = self._parts(user, data)
            total = np.sum([p for _, p in parts], axis=0)
            scores = normalise_rows(total[None, :])[0]
        else:
            scores = normalise_rows(self.fallback.score(self.data, np.array([0])))[0]
        allowed = self._allowed(category)
        if code >= 0:
            allowed &= ~self._blocked_repeats(code, now)
        if data is not self.data:
            allowed &= ~self._blocked_recent(data, now)
        scores = self._boost(scores)
        picks = self._pick(scores, allowed, n, max_per_category)
        if personal:
            reasons = [max(parts, key=lambda p: p[1][i])[0].explain(data, user, i) for i in picks]
        elif refused:
            reasons = ["popular in the shop (no personalisation: the customer declined it)"] * len(
                picks
            )
        else:
            reasons = ["popular in the shop (no history yet)"] * len(picks)
        return [self._rec(i, scores[i], r) for i, r in zip(picks, reasons, strict=True)]

    def is_personal(
        self, customer_id: str, *, recent: bool = False, declined: bool | None = None
    ) -> bool:
        """Whether the customer's list is their own: consented, with history (the
        model's, or ``recent`` activity since training). ``declined`` as for
        :meth:`for_customer` (None: the answer read at training)."""
        if self.declined(customer_id) if declined is None else declined:
            return False
        code = self._code(customer_id)
        return bool(recent or (code >= 0 and self.data.n_occasions()[code] > 0))

    def answer(
        self,
        customer_id: str,
        n: int = 10,
        *,
        store: Store | None = None,
        category: str | None = None,
        max_per_category: int | None = None,
    ) -> tuple[bool, list[Recommendation]]:
        """Whether the list is personal, and the list.

        With ``store``, the customer's personalisation consent is read from it
        now (one indexed lookup): a customer who declined gets the anonymous
        list at once, one who gave consent back their own list again, and a
        customer the store no longer holds is served as an anonymous visitor.
        Only then, for a consenting customer, are their orders and events
        since training read and folded in. Without ``store``, the consent read
        at training decides.
        """
        cid = str(customer_id)
        if store is None:
            return self.is_personal(cid), self.for_customer(
                cid, n, category=category, max_per_category=max_per_category
            )
        from shopkeeper.recommend._source import personalisation_consent, recent_activity

        consent = personalisation_consent(store, cid)
        if consent is None:  # not (or no longer) a customer: nothing of theirs is used
            return False, self.for_customer(
                "", n, category=category, max_per_category=max_per_category
            )
        recent = None
        if consent:
            since = self.trained_until.to_pydatetime()
            activity = recent_activity(store, cid, since)
            if activity is not None:
                recent = self.recent_frame(*activity)
                recent = recent if len(recent) else None
        declined = not consent
        found = self.for_customer(
            cid,
            n,
            category=category,
            max_per_category=max_per_category,
            recent=recent,
            declined=declined,
        )
        return self.is_personal(cid, recent=recent is not None, declined=declined), found

    def similar_items(self, product_id: str, n: int = 10) -> list[Recommendation]:
        """Products like this one: bought by the same customers, or close in text when new."""
        item = self._item(product_id)
        scores = np.zeros(self.data.n_items, dtype=np.float64)
        reasons: dict[int, str] = {}
        for model, label in (
            (self.similar_model, "bought by the same customers"),
            (self.content_model, "close in title, category or brand"),
        ):
            if model is None or not hasattr(model, "similar"):
                continue
            codes, vals = model.similar(item, max(n * 3, 30))
            if len(vals) and vals.max() > 0:
                for c, v in zip(codes, vals / vals.max(), strict=True):
                    if v > scores[c]:
                        reasons[int(c)] = label
                    scores[c] += v
        allowed = self._eligible.copy()
        allowed[item] = False
        picks = self._pick(scores, allowed & (scores > 0), n, None)
        return [self._rec(i, scores[i], reasons.get(int(i), "similar")) for i in picks]

    def bought_together(
        self, product_id: str, n: int = 10, min_count: int = 2
    ) -> list[Recommendation]:
        """Products in the same baskets: confidence P(other | this), lift as tie-break."""
        item = self._item(product_id)
        row = self._pair_counts[item].toarray().ravel().astype(np.float64)
        row[item] = 0.0
        base = self._item_baskets[item]
        if base == 0:
            return []
        confidence = row / base
        lift = confidence / np.maximum(self._item_baskets / max(self._n_baskets, 1), 1e-12)
        score = np.where(row >= min_count, confidence + 1e-6 * np.log1p(lift), 0.0)
        allowed = self._eligible & (score > 0)
        allowed[item] = False
        picks = self._pick(score, allowed, n, None)
        return [
            self._rec(
                i,
                score[i],
                f"in {int(row[i])} of the {int(base)} orders with this product "
                f"({confidence[i]:.0%}, lift {lift[i]:.1f})",
            )
            for i in picks
        ]

    def for_session(self, recent: Sequence[str], n: int = 10) -> list[Recommendation]:
        """What an anonymous visitor may view next, from the products viewed so far."""
        if self.session_model is None or not hasattr(self.session_model, "recommend_session"):
            raise ConfigError("this recommender was trained without session data")
        ranked = self.session_model.recommend_session(list(recent), n=max(n * 3, 30))
        out = []
        for product_id, score in ranked:
            code = int(self.data.item_codes([product_id])[0])
            if code >= 0 and self._eligible[code]:
                out.append(self._rec(code, score, f"often viewed next after {recent[-1]}"))
            if len(out) == n:
                break
        if len(out) < n:
            # A visitor with no usable views gets what is popular now.
            seen = {r.product_id for r in out} | {str(p) for p in recent}
            for r in self.popular(n + len(seen)):
                if r.product_id not in seen and len(out) < n:
                    out.append(r)
        return out

    def popular(self, n: int = 10, *, category: str | None = None) -> list[Recommendation]:
        """The non-personal list (recent popularity), after the eligibility rules."""
        return self.for_customer("", n, category=category)

    # -- helpers ---------------------------------------------------------------

    def _allowed(self, category: str | None) -> np.ndarray:
        allowed = self._eligible.copy()
        if category:
            cats = pd.Series(self._categories, dtype=object).fillna("").astype(str)
            allowed &= cats.str.startswith(category).to_numpy()
        return allowed

    def _blocked_repeats(self, code: int, now: pd.Timestamp | None) -> np.ndarray:
        blocked = np.zeros(self.data.n_items, dtype=bool)
        row = self._bought[code]
        if row.nnz == 0:
            return blocked
        items = row.indices
        rule = self._rule[items]
        blocked[items[rule == "durable"]] = True
        consumable = items[rule == "consumable"]
        if len(consumable):
            when = pd.Timestamp(now) if now is not None else self._end
            today = np.datetime64(when, "s").astype(np.float64) / 86400.0
            days = today - self._last_day[code].toarray().ravel()[consumable]
            cycle = self._cycle[consumable]
            due = np.isnan(cycle) | (days >= self.rules.due_fraction * cycle)
            blocked[consumable[~due]] = True
        return blocked

    def _boost(self, scores: np.ndarray) -> np.ndarray:
        out = np.asarray(scores, dtype=np.float64).copy()
        if self.rules.margin_boost:
            out *= 1.0 + self.rules.margin_boost * self._margin
        if self.rules.new_arrival_boost:
            out += self.rules.new_arrival_boost * self._new
        return out

    def _pick(
        self, scores: np.ndarray, allowed: np.ndarray, n: int, max_per_category: int | None
    ) -> list[int]:
        cap = max_per_category if max_per_category is not None else self.rules.max_per_category
        s = np.where(allowed, scores, -np.inf)
        order = np.argsort(-s, kind="stable")
        picks: list[int] = []
        per_cat: dict[Any, int] = {}
        for i in order:
            if s[i] == -np.inf or len(picks) == n:
                break
            cat = self._categories[i]
            if cap is not None and cat is not None and per_cat.get(cat, 0) >= cap:
                continue
            per_cat[cat] = per_cat.get(cat, 0) + 1
            picks.append(int(i))
        return picks

    def _parts(
        self, code: int, data: Interactions | None = None
    ) -> list[tuple[Recommender, np.ndarray]]:
        """Each component's weighted, scaled scores for one customer (one part if not a blend).

        The list's scores are their sum, and a product's reason comes from the
        part that gave it the most, so both come from one scoring pass.
        """
        data = self.data if data is None else data
        users = np.array([code])
        model = self.model
        if isinstance(model, Hybrid):
            return [
                (m, w * normalise_rows(m.score(data, users))[0])
                for m, w in zip(model.components, model.weights, strict=True)
                if w > 0
            ]
        return [(model, normalise_rows(model.score(data, users))[0])]

    @property
    def trained_until(self) -> pd.Timestamp:
        """The time of the latest interaction the model learned from (UTC, naive)."""
        return self._end

    def recent_frame(self, purchases: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
        """What :meth:`for_customer` folds in, from a customer's newer orders and events.

        ``purchases`` has ``order_id``, ``product_id`` and ``at``; ``events`` has
        ``event_id``, ``event`` (``view`` or ``cart``), ``product_id`` and ``at``.
        Browse events weigh what they weigh in training; products the model
        does not know (added since training) are left out.
        """
        from shopkeeper.recommend._data import DEFAULT_EVENT_WEIGHTS

        bought = pd.DataFrame(
            {
                "product_id": purchases["product_id"].astype(str),
                "at": purchases["at"],
                "weight": 1.0,
                "purchase": True,
                "occasion": "o:" + purchases["order_id"].astype(str),
            }
        )
        weights = self.event_weights or DEFAULT_EVENT_WEIGHTS
        kept = events[events["event"].isin([k for k, w in weights.items() if w > 0])]
        browsed = pd.DataFrame(
            {
                "product_id": kept["product_id"].astype(str),
                "at": kept["at"],
                "weight": kept["event"].map(weights).astype(float),
                "purchase": False,
                "occasion": "e:" + kept["event_id"].astype(str),
            }
        )
        both = pd.concat([bought, browsed], ignore_index=True)
        # Products added after training have no column in the model: left out.
        return both[self.data.item_codes(both["product_id"].to_numpy()) >= 0]

    def _folded(self, customer_id: str, code: int, recent: pd.DataFrame) -> Interactions:
        """One customer's interactions: what the model learned plus ``recent``."""
        old = self.data.log.iloc[self._rows_of(code)]
        known = pd.DataFrame(
            {
                "product_id": self.data.items[old["item"].to_numpy()],
                "at": old["at"].to_numpy(),
                "weight": old["weight"].to_numpy(),
                "purchase": old["purchase"].to_numpy(),
                "occasion": "k:" + old["occasion"].astype(str).to_numpy(),
            }
        )
        new = recent.assign(at=pd.to_datetime(recent["at"], utc=True).dt.tz_localize(None))
        frame = pd.concat([known, new], ignore_index=True)
        frame["customer_id"] = customer_id
        return Interactions.from_frame(
            frame,
            occasion="occasion",
            weight="weight",
            purchase="purchase",
            users=[customer_id],
            items=self.data.items,
        )

    def _rows_of(self, code: int) -> np.ndarray:
        """Positions in the log of one customer's rows, without scanning the log."""
        if code < 0:
            return np.zeros(0, dtype=np.int64)
        start, end = np.searchsorted(self._user_sorted, [code, code + 1])
        return self._user_order[start:end]

    def _blocked_recent(self, data: Interactions, now: pd.Timestamp | None) -> np.ndarray:
        """Durables bought since training are not offered again either."""
        blocked = np.zeros(self.data.n_items, dtype=bool)
        bought = data.log.loc[data.log["purchase"], "item"].to_numpy()
        blocked[bought[self._rule[bought] == "durable"]] = True
        return blocked

    def _rec(self, item: int, score: float, reason: str) -> Recommendation:
        title = self._titles[item]
        category = self._categories[item]
        return Recommendation(
            product_id=str(self.data.items[item]),
            score=round(float(score), 6),
            reason=reason,
            title=None if pd.isna(title) else str(title),
            category=None if pd.isna(category) else str(category),
        )


def popularity_fallback(data: Interactions, half_life_days: float = 30.0) -> Recommender:
    """The non-personal list for new customers and those without consent."""
    return Popularity(half_life_days=half_life_days).fit(data)
