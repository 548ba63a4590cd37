"""Customer service: the bilingual FAQ and labelled questions customers ask.

Questions about an order name a real order in the state the question is
about (late questions name late parcels, lost-parcel questions lost ones),
so an assistant can answer from the shop's own data; each question carries
its intent, sentiment, whether it should go to a person, and the FAQ entry
that answers it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shopkeeper.demo._calendar import Calendar
from shopkeeper.demo._catalog import Catalog
from shopkeeper.demo._fulfil import Fulfilment
from shopkeeper.demo._orders import Orders
from shopkeeper.demo._people import People
from shopkeeper.demo._util import DAY, join, pick, strings, take
from shopkeeper.demo._vocab import ESCALATE_INTENTS, FAQ, NEGATIVE_INTENTS, QUESTIONS

INTENTS = tuple(FAQ)
WEIGHTS = {
    "order_status": 14,
    "late_delivery": 8,
    "delivery_time": 6,
    "shipping_time": 5,
    "returns": 7,
    "refund_time": 5,
    "exchange": 4,
    "damaged_item": 3,
    "missing_item": 2,
    "lost_parcel": 2,
    "cancel_order": 4,
    "change_address": 3,
    "shipping_fee": 3,
    "international_shipping": 1.5,
    "payment_methods": 2,
    "invoice": 2,
    "coupon": 3,
    "price_protection": 2,
    "account_login": 2,
    "password_reset": 2,
    "stock_availability": 3,
    "restock": 2,
    "product_authenticity": 2,
    "warranty": 2,
    "membership": 2,
    "contact_human": 2,
    "privacy_data": 1.5,
}
GREET_ZH = ("", "", "你好，", "在吗？", "亲，", "您好，")
GREET_EN = ("", "", "Hi! ", "Hello. ", "Hey there. ")
ANGRY_ZH = ("太失望了！", "请尽快处理！", "这已经是第二次了！")
ANGRY_EN = (" This is unacceptable!", " Please sort this out now!", " This is the second time!")


def faq_frame() -> pd.DataFrame:
    """The FAQ table: one entry per intent and language."""
    rows = []
    for intent, (q_zh, a_zh, q_en, a_en) in FAQ.items():
        rows.append((f"faq-{intent}-zh", q_zh, a_zh, "zh", intent))
        rows.append((f"faq-{intent}-en", q_en, a_en, "en", intent))
    return pd.DataFrame(rows, columns=["faq_id", "question", "answer", "lang", "intent"])


def build_questions(
    rng: np.random.Generator,
    cal: Calendar,
    cat: Catalog,
    ppl: People,
    o: Orders,
    f: Fulfilment,
    order_ids: np.ndarray,
    n: int,
    now: float,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``n`` labelled questions, each tied to a real customer, order and product where it fits."""
    intent = pick(rng, [WEIGHTS[i] for i in INTENTS], n)
    names = np.array(INTENTS)[intent]
    online = o.variant == 0
    delivered = ~np.isnan(f.delivered)
    late_now = (
        online
        & ~f.cancelled
        & (
            (delivered & (f.late_days > 0))
            | (~delivered & ~np.isnan(f.promised) & (f.promised < now))
        )
    )
    pools = {
        "order_status": online & ~f.cancelled,
        "late_delivery": late_now,
        "lost_parcel": f.lost,
        "returns": delivered,
        "exchange": delivered,
        "damaged_item": delivered,
        "missing_item": delivered,
        "refund_time": ~np.isnan(f.returned),
        "cancel_order": online,
        "change_address": online,
        "invoice": online,
    }
    order = np.full(n, -1)
    at = np.full(n, np.nan)
    for name, mask in pools.items():
        rows = np.flatnonzero(names == name)
        cand = np.flatnonzero(mask)
        if len(rows) == 0 or len(cand) == 0:
            continue
        chosen = cand[rng.integers(0, len(cand), len(rows))]
        order[rows] = chosen
        at[rows] = _asked(rng, name, chosen, o, f)
    # Questions not about an order: a known customer on an ordinary day.
    free = order < 0
    day = pick(rng, cal.multiplier, int(free.sum()))
    at[free] = day * DAY + rng.uniform(8, 23.5, int(free.sum())) * 3600.0
    cust = np.where(order >= 0, o.cust[np.maximum(order, 0)], -1)
    who = pick(rng, ppl.rate, int(free.sum()))
    cust[free] = np.where(ppl.created_day[who] < day, who, -1)
    at = np.floor(np.minimum(at, now - rng.uniform(0, 3600, n)))

    starts = o.line_start()
    counts = np.diff(np.append(starts, len(o.line_order)))
    safe = np.maximum(order, 0)
    line = starts[safe] + np.floor(rng.random(n) * counts[safe]).astype(int)
    prod = np.where(order >= 0, o.line_prod[line], pick(rng, cat.popularity, n))

    lang_en = np.where(cust >= 0, ppl.lang_en[np.maximum(cust, 0)], rng.random(n) < 0.15)
    text = _text(rng, names, lang_en, order_ids, order, cat, prod)
    negative = np.isin(names, list(NEGATIVE_INTENTS))
    angry = negative & (rng.random(n) < 0.4)
    angry_zh = take(ANGRY_ZH, np.where(angry, rng.integers(0, len(ANGRY_ZH), n), -1))
    angry_en = take(ANGRY_EN, np.where(angry, rng.integers(0, len(ANGRY_EN), n), -1))
    tail = pc.if_else(pa.array(lang_en), pc.fill_null(angry_en, ""), pc.fill_null(angry_zh, ""))
    text = join(text, tail)
    late_by = np.where(order >= 0, f.late_days[safe], np.nan)
    escalate = (
        np.isin(names, list(ESCALATE_INTENTS))
        | angry
        | ((names == "late_delivery") & ~(late_by <= 3))
    )
    lang = np.where(lang_en, "en", "zh")
    rank = np.lexsort((np.arange(n), at))
    frame = pd.DataFrame(
        {
            "asked_at": at[rank],
            "customer": cust[rank],
            "order": order[rank],
            "product": prod[rank],
            "lang": lang[rank],
            "intent": names[rank],
            "text": strings(text.take(pa.array(rank))),
            "sentiment": np.where(negative, "negative", "neutral")[rank],
            "escalate": escalate[rank],
            "faq_id": np.char.add(np.char.add(np.char.add("faq-", names), "-"), lang)[rank],
        }
    )
    truth = {
        "file": "support_questions.csv",
        "rows": n,
        "intents": list(INTENTS),
        "labels": "intent (one FAQ intent), sentiment (negative for complaints), escalate "
        "(lost or damaged goods, asks for a person, angry, or more than 3 days late), faq_id "
        "(the FAQ entry in the question's language that answers it)",
    }
    return frame, truth


def _asked(
    rng: np.random.Generator, name: str, chosen: np.ndarray, o: Orders, f: Fulfilment
) -> np.ndarray:
    k = len(chosen)
    if name == "late_delivery":
        return f.promised[chosen] + rng.uniform(0.3, 3.0, k) * DAY
    if name == "lost_parcel":
        base = np.where(np.isnan(f.exception[chosen]), f.shipped[chosen], f.exception[chosen])
        return base + rng.uniform(1.0, 4.0, k) * DAY
    if name == "order_status":
        return o.sec[chosen] + rng.uniform(0.2, 3.0, k) * DAY
    if name == "refund_time":
        return f.returned[chosen] + rng.uniform(3.0, 8.0, k) * DAY
    if name in ("returns", "exchange"):
        return f.delivered[chosen] + rng.uniform(0.5, 6.0, k) * DAY
    if name in ("damaged_item", "missing_item"):
        return f.delivered[chosen] + rng.uniform(0.05, 2.0, k) * DAY
    if name in ("cancel_order", "change_address"):
        return o.sec[chosen] + rng.uniform(5, 90, k) * 60.0
    return o.sec[chosen] + rng.uniform(1.0, 20.0, k) * DAY


def _text(
    rng: np.random.Generator,
    names: np.ndarray,
    lang_en: np.ndarray,
    order_ids: np.ndarray,
    order: np.ndarray,
    cat: Catalog,
    prod: np.ndarray,
) -> pa.Array:
    """Fill each question's template; templates are split at their slot, so this is vectorised."""
    pre: list[str] = []
    slot: list[int] = []  # 0 none, 1 order, 2 product
    post: list[str] = []
    offsets: dict[tuple[str, int], tuple[int, int]] = {}
    for intent, (zh, en) in QUESTIONS.items():
        for lang, templates in ((0, zh), (1, en)):
            offsets[(intent, lang)] = (len(pre), len(templates))
            for t in templates:
                for mark, code in (("{order}", 1), ("{product}", 2)):
                    if mark in t:
                        a, b = t.split(mark, 1)
                        pre.append(a)
                        slot.append(code)
                        post.append(b)
                        break
                else:
                    pre.append(t)
                    slot.append(0)
                    post.append("")
    n = len(names)
    lang_code: list[int] = lang_en.astype(int).tolist()
    start = np.array([offsets[(i, g)][0] for i, g in zip(names, lang_code, strict=True)])
    count = np.array([offsets[(i, g)][1] for i, g in zip(names, lang_code, strict=True)])
    idx = start + np.floor(rng.random(n) * count).astype(int)
    slot_a = np.array(slot)[idx]
    no_order = (slot_a == 1) & (order < 0)
    # A template naming an order, asked without one, falls back to a template without a slot.
    if no_order.any():
        plain = np.array([offsets[(i, g)] for i, g in zip(names, lang_code, strict=True)])
        idx[no_order] = plain[no_order, 0]
        slot_a = np.array(slot)[idx]
    oid = pa.array(np.where(order >= 0, order_ids[np.maximum(order, 0)], ""))
    noun = pc.if_else(
        pa.array(lang_en), cat.item_en.take(pa.array(prod)), cat.item_zh.take(pa.array(prod))
    )
    fill = pc.if_else(
        pa.array(slot_a == 1), oid, pc.if_else(pa.array(slot_a == 2), noun, pa.scalar(""))
    )
    greet_zh = take(GREET_ZH, rng.integers(0, len(GREET_ZH), n))
    greet_en = take(GREET_EN, rng.integers(0, len(GREET_EN), n))
    greet = pc.if_else(pa.array(lang_en), greet_en, greet_zh)
    return join(greet, take(pre, idx), fill, take(post, idx))
