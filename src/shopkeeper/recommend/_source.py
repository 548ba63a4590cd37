"""What recommenders read from a store: interactions, the catalog, stock and consent.

Consent is read twice: by training (``ShopData.no_consent``, kept in the
artifact for answers given without a store) and by serving, per request
(:func:`personalisation_consent`), so a customer who declines is served the
non-personal list from their next request, without a retrain.

- Purchases are the lines of orders that were not cancelled; each order is one
  occasion (a basket) of weight 1 per product.
- Browse events (``view``, ``cart``) of known customers are occasions of their
  own with the weights of :data:`~shopkeeper.recommend.DEFAULT_EVENT_WEIGHTS`;
  ``purchase`` events are left out (the order lines already say it).
- The item universe is the whole catalog, so that products nobody bought yet
  can still be served (by the content model and the new-arrival boost).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import String, bindparam, func, literal, select, union_all

from shopkeeper.recommend._data import DEFAULT_EVENT_WEIGHTS, Interactions
from shopkeeper.store import METADATA, Store

_ORDERS = METADATA.tables["orders"]
_LINES = METADATA.tables["order_lines"]
_EVENTS = METADATA.tables["events"]
_PRODUCTS = METADATA.tables["products"]
_CUSTOMERS = METADATA.tables["customers"]
_INVENTORY = METADATA.tables["inventory"]


@dataclass
class ShopData:
    """Everything a recommender job reads, loaded once."""

    interactions: Interactions
    catalog: pd.DataFrame  # product_id, title, description, category, brand, price, cost, active
    stock: pd.Series  # on hand per product_id (only products with inventory rows)
    no_consent: set[str]  # customers who declined personalisation
    sessions: pd.DataFrame  # session_id, product_id, at: browse events, guests included


# Built once: a request runs it with its own parameters, skipping statement
# construction (which costs more than the indexed lookups themselves). One
# statement for orders and events: a request pays for one round trip.
_RECENT = union_all(
    select(
        literal("order").label("kind"),
        _ORDERS.c.order_id.label("ref"),
        literal(None, String).label("event"),
        _LINES.c.product_id,
        _ORDERS.c.ordered_at.label("at"),
    )
    .join(_LINES, _LINES.c.order_id == _ORDERS.c.order_id)
    .where(_ORDERS.c.customer_id == bindparam("customer"))
    .where(_ORDERS.c.ordered_at > bindparam("since"))
    .where(func.coalesce(_ORDERS.c.status, "") != "cancelled"),
    select(
        literal("event").label("kind"),
        _EVENTS.c.event_id.label("ref"),
        _EVENTS.c.event,
        _EVENTS.c.product_id,
        _EVENTS.c.at,
    )
    .where(_EVENTS.c.customer_id == bindparam("customer"))
    .where(_EVENTS.c.at > bindparam("since"))
    .where(_EVENTS.c.product_id.is_not(None))
    .where(_EVENTS.c.event.in_(("view", "cart"))),
)


# One lookup through the customers key (its unique index), built once like _RECENT.
_CONSENT = select(_CUSTOMERS.c.consent_personalization).where(
    _CUSTOMERS.c.customer_id == bindparam("customer")
)


def personalisation_consent(store: Store, customer_id: str) -> bool | None:
    """The customer's personalisation consent as the store holds it now.

    True when they may get personal lists (a missing answer counts as yes, as
    the contract says), False when they declined, None when the store holds
    no such customer (removed since training, or never loaded): serving then
    treats them as an anonymous visitor. This is the one place serving asks
    about a customer in the store; one indexed lookup, well under the cost of
    scoring.
    """
    with store.engine.connect() as conn:
        row = conn.execute(_CONSENT, {"customer": customer_id}).first()
    if row is None:
        return None
    return row[0] is not False


def recent_activity(
    store: Store, customer_id: str, since: datetime
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """A customer's order lines and browse events after ``since`` (UTC, naive).

    Returns ``(purchases, events)`` frames, or None when there is nothing new
    (the common case, answered without building any frame). Both lookups go
    through the customer index, in one statement.
    """
    with store.engine.connect() as conn:
        rows = conn.execute(_RECENT, {"customer": customer_id, "since": since}).all()
    if not rows:
        return None
    frame = pd.DataFrame(rows, columns=["kind", "ref", "event", "product_id", "at"])
    orders = frame[frame["kind"] == "order"]
    events = frame[frame["kind"] == "event"]
    return (
        pd.DataFrame(
            {"order_id": orders["ref"], "product_id": orders["product_id"], "at": orders["at"]}
        ),
        pd.DataFrame(
            {
                "event_id": events["ref"],
                "event": events["event"],
                "product_id": events["product_id"],
                "at": events["at"],
            }
        ),
    )


def load_shop(
    store: Store,
    *,
    event_weights: Mapping[str, float] | None = None,
    include_events: bool = True,
) -> ShopData:
    """Read interactions, catalog, stock, consent and sessions from ``store``."""
    weights = dict(DEFAULT_EVENT_WEIGHTS if event_weights is None else event_weights)
    catalog = store.select_frame(
        select(
            _PRODUCTS.c.product_id,
            _PRODUCTS.c.title,
            _PRODUCTS.c.description,
            _PRODUCTS.c.category,
            _PRODUCTS.c.brand,
            _PRODUCTS.c.price,
            _PRODUCTS.c.cost,
            _PRODUCTS.c.active,
        ),
        ["product_id", "title", "description", "category", "brand", "price", "cost", "active"],
    )
    purchases = store.select_frame(
        select(_ORDERS.c.order_id, _ORDERS.c.customer_id, _ORDERS.c.ordered_at, _LINES.c.product_id)
        .join(_LINES, _LINES.c.order_id == _ORDERS.c.order_id)
        .where(_ORDERS.c.customer_id.is_not(None))
        .where(func.coalesce(_ORDERS.c.status, "") != "cancelled"),
        ["occasion", "customer_id", "at", "product_id"],
    )
    purchases["occasion"] = "o:" + purchases["occasion"].astype(str)
    purchases["weight"] = 1.0
    purchases["purchase"] = True
    frames = [purchases]
    sessions = pd.DataFrame(columns=["session_id", "product_id", "at"])
    kinds = [k for k, w in weights.items() if w > 0]
    if include_events and kinds:
        events = store.select_frame(
            select(
                _EVENTS.c.event_id,
                _EVENTS.c.customer_id,
                _EVENTS.c.session_id,
                _EVENTS.c.at,
                _EVENTS.c.product_id,
                _EVENTS.c.event,
            )
            .where(_EVENTS.c.product_id.is_not(None))
            .where(_EVENTS.c.event.in_(kinds)),
            ["occasion", "customer_id", "session_id", "at", "product_id", "event"],
        )
        sessions = events.loc[events["session_id"].notna(), ["session_id", "product_id", "at"]]
        known = events[events["customer_id"].notna()].copy()
        known["occasion"] = "e:" + known["occasion"].astype(str)
        known["weight"] = known["event"].map(weights).astype(float)
        known["purchase"] = False
        frames.append(known[purchases.columns])
    log = pd.concat(frames, ignore_index=True) if len(frames) > 1 else purchases
    customers = store.select_frame(
        select(_CUSTOMERS.c.customer_id, _CUSTOMERS.c.consent_personalization),
        ["customer_id", "consent"],
    )
    users = np.union1d(customers["customer_id"].astype(str), log["customer_id"].astype(str))
    data = Interactions.from_frame(
        log,
        occasion="occasion",
        weight="weight",
        purchase="purchase",
        users=users,
        items=catalog["product_id"].astype(str).to_numpy(),
    )
    stock = store.select_frame(
        select(_INVENTORY.c.product_id, func.sum(_INVENTORY.c.on_hand)).group_by(
            _INVENTORY.c.product_id
        ),
        ["product_id", "on_hand"],
    ).set_index("product_id")["on_hand"]
    declined = customers.loc[customers["consent"].eq(False), "customer_id"].astype(str)
    return ShopData(
        interactions=data,
        catalog=catalog,
        stock=stock.astype(float),
        no_consent=set(declined),
        sessions=sessions.reset_index(drop=True),
    )
