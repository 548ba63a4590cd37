"""Campaign audiences: customers chosen by conditions over their scores.

A condition reads ``FIELD OP VALUE``:

- comparisons ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` against a number,
  or (``=``, ``!=``) against a word (``segment = champions``, ``gender = f``);
- ``in`` against a comma-separated list (``segment in at risk, cannot lose``);
- ``top`` / ``bottom`` against a percentage of *all* scored customers
  (``propensity top 20%``: the fifth of customers with the highest
  propensity, whoever else the other conditions remove).

All conditions must hold. Marketing consent is not a condition one can
leave out: a customer is a member only if the store says, at the moment the
audience is built, that they agreed to be contacted. A missing answer is
not an agreement.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shopkeeper.errors import ConfigError

OPS = ("<=", ">=", "!=", "=", "<", ">", "in", "top", "bottom")
_PATTERN = re.compile(
    r"^\s*(?P<field>[a-z_][a-z0-9_]*)\s*(?P<op><=|>=|!=|=|<|>|\bin\b|\btop\b|\bbottom\b)"
    r"\s*(?P<value>.*?)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Condition:
    """One rule of an audience: ``field op value``."""

    field: str
    op: str
    value: Any

    def __str__(self) -> str:
        if self.op in ("top", "bottom"):
            return f"{self.field} {self.op} {self.value:g}%"
        if self.op == "in":
            return f"{self.field} in {', '.join(str(v) for v in self.value)}"
        if isinstance(self.value, float):
            return f"{self.field} {self.op} {self.value:g}"
        return f"{self.field} {self.op} {self.value}"

    def to_dict(self) -> dict[str, Any]:
        value = list(self.value) if self.op == "in" else self.value
        return {"field": self.field, "op": self.op, "value": value}


def parse_condition(text: str) -> Condition:
    """Read ``"propensity top 20%"``, ``"recency_days >= 30"``, ``"segment in a, b"``."""
    match = _PATTERN.match(text or "")
    if match is None or not match.group("value"):
        raise ConfigError(
            f"condition {text!r} must read FIELD OP VALUE with OP one of "
            f"{', '.join(OPS)} (e.g. 'recency_days >= 30', 'propensity top 20%')"
        )
    return make_condition(match.group("field"), match.group("op").lower(), match.group("value"))


def make_condition(field_name: str, op: str, value: Any) -> Condition:
    """A checked condition from its parts (as the API receives them)."""
    if op not in OPS:
        raise ConfigError(f"condition on {field_name!r}: operator {op!r} is not one of {OPS}")
    if op in ("top", "bottom"):
        text = str(value).strip().rstrip("%").strip()
        try:
            share = float(text)
        except ValueError:
            raise ConfigError(
                f"condition {field_name} {op}: {value!r} must be a percentage like 20%"
            ) from None
        if not 0 < share <= 100:
            raise ConfigError(f"condition {field_name} {op}: {share:g}% must be in (0, 100]")
        return Condition(field_name, op, share)
    if op == "in":
        items = value if isinstance(value, list | tuple) else str(value).split(",")
        words = tuple(str(v).strip() for v in items if str(v).strip())
        if not words:
            raise ConfigError(f"condition {field_name} in: give at least one value")
        return Condition(field_name, op, words)
    if isinstance(value, bool):
        return Condition(field_name, op, value)
    if isinstance(value, int | float):
        return Condition(field_name, op, float(value))
    text = str(value).strip()
    lowered = text.lower()
    if lowered in ("true", "false"):
        return Condition(field_name, op, lowered == "true")
    try:
        return Condition(field_name, op, float(text))
    except ValueError:
        if op not in ("=", "!="):
            raise ConfigError(
                f"condition {field_name} {op} {text!r}: {op} needs a number"
            ) from None
        return Condition(field_name, op, text)


@dataclass
class AudienceResult:
    """Who is in an audience, and what it is expected to bring."""

    conditions: list[Condition]
    members: pd.DataFrame  # one row per member, the scores' columns
    matched: int  # customers meeting the conditions, before consent
    without_consent: int  # of those, left out for want of marketing consent
    scored: int  # customers the conditions were applied to
    summary: dict[str, float] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.members)

    def to_dict(self, *, limit: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {
            "conditions": [str(c) for c in self.conditions],
            "size": self.size,
            "matched": self.matched,
            "without_consent": self.without_consent,
            "scored": self.scored,
            **{k: round(v, 4) for k, v in self.summary.items()},
        }
        if limit:
            top = self.members.head(limit).reset_index()
            out["members"] = _records(top)
        return out

    def to_csv(self, columns: Sequence[str] | None = None) -> str:
        """The members as CSV text (customer_id first), in the audience's order."""
        frame = self.members.reset_index()
        if columns:
            frame = frame[["customer_id", *[c for c in columns if c != "customer_id"]]]
        return frame.to_csv(index=False, float_format="%.6g")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        clean: dict[str, Any] = {}
        for k, v in row.items():
            if isinstance(v, float) and np.isnan(v):
                clean[str(k)] = None
            elif isinstance(v, np.generic):
                clean[str(k)] = v.item()
            else:
                clean[str(k)] = v
        out.append(clean)
    return out


def _mask(scores: pd.DataFrame, cond: Condition) -> np.ndarray:
    if cond.field not in scores.columns:
        known = ", ".join(c for c in scores.columns if not c.startswith("_"))
        raise ConfigError(f"condition on unknown field {cond.field!r}; fields are: {known}")
    column = scores[cond.field]
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if cond.op in ("top", "bottom"):
        if not numeric:
            raise ConfigError(f"condition {cond}: {cond.field} is not a number")
        count = int(np.ceil(len(column) * cond.value / 100.0))
        order = column.rank(method="first", ascending=cond.op == "bottom", na_option="bottom")
        return (order <= count).to_numpy()
    if cond.op == "in":
        return column.astype("str").isin(cond.value).to_numpy()
    if isinstance(cond.value, bool):
        truth = column.astype("boolean").fillna(False).to_numpy(dtype=bool)
        return truth == cond.value if cond.op == "=" else truth != cond.value
    if isinstance(cond.value, str):
        text = column.astype("str")
        return (text == cond.value if cond.op == "=" else text != cond.value).to_numpy()
    if not numeric:
        raise ConfigError(f"condition {cond}: {cond.field} is not a number")
    values = column.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        result = {
            "=": values == cond.value,
            "!=": values != cond.value,
            "<": values < cond.value,
            "<=": values <= cond.value,
            ">": values > cond.value,
            ">=": values >= cond.value,
        }[cond.op]
    return np.asarray(result, dtype=bool)


def build_audience(
    scores: pd.DataFrame,
    conditions: Iterable[Condition | str],
    consent_marketing: pd.Series,
    *,
    order_by: str | None = "clv",
) -> AudienceResult:
    """The customers of ``scores`` (index customer_id) meeting every condition who
    gave marketing consent according to ``consent_marketing`` (by customer_id;
    the store's answer now: a customer it lacks, or a missing answer, is a no).
    A ``consent_marketing`` column of ``scores`` is replaced by that answer.

    Members come sorted by ``order_by`` (highest first) when that column exists.
    """
    conds = [parse_condition(c) if isinstance(c, str) else c for c in conditions]
    now = consent_marketing.reindex(scores.index).astype("boolean").fillna(False)
    if "consent_marketing" in scores.columns:
        # The scores hold the answer at scoring time: conditions, members' rows and
        # exports read the answer given now instead (on a copy: the scores stay).
        scores = scores.assign(consent_marketing=now)
    keep = np.ones(len(scores), dtype=bool)
    for cond in conds:
        keep &= _mask(scores, cond)
    agreed = now.to_numpy(dtype=bool)
    members = scores[keep & agreed]
    if order_by and order_by in members.columns:
        members = members.sort_values(order_by, ascending=False, kind="stable")
    summary = {}
    for column, name in (
        ("clv", "expected_value"),
        ("propensity", "expected_buyers"),
        ("expected_revenue", "expected_revenue"),
    ):
        if column in members:
            summary[name] = float(members[column].sum())
    return AudienceResult(
        conds,
        members,
        matched=int(keep.sum()),
        without_consent=int((keep & ~agreed).sum()),
        scored=len(scores),
        summary=summary,
    )
