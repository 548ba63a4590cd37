"""Content-based recommendations from the catalog's text: TF-IDF over title, description,
category and brand, so items nobody has bought yet can be recommended.

Each item's text is tokenised (Chinese with ``jieba``, Latin script as lowercase
words), weighted by TF-IDF (scikit-learn) and compared by cosine. Category and
brand also become whole tokens (``cat:grocery>breakfast``, ``brand:goodgrain``)
so that two items of the same brand or shelf match even when their titles share
no word. A user is scored from their recency-weighted history times the
item-item similarity; :meth:`ContentBased.similar` needs no interactions at all.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shopkeeper.errors import ConfigError
from shopkeeper.recommend._base import Recommender
from shopkeeper.recommend._data import Interactions

#: Han ideographs (CJK unified, extension A, compatibility): text holding any goes to jieba.
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: Latin-script words: runs of letters and digits (underscores are punctuation here).
_WORD = re.compile(r"[^\W_]+")
#: How often each field's tokens count: the title names the product, category and
#: brand tokens say what kind of product it is; a long description should not
#: drown them.
_TITLE_WEIGHT = 2
_FIELD_WEIGHT = 2
#: Cells of one block of the item-item similarity (float32): bounds memory at 64 MB.
_CELLS = 1 << 24
_TEXT_COLUMNS = ("title", "description", "category", "brand")


def _segment(text: str) -> list[str]:
    """Chinese text via jieba's search mode, which also yields the shorter words
    inside long ones (燕麦片 -> 燕麦, 麦片, 燕麦片), so close variants still match."""
    import jieba

    # jieba logs its dictionary loading at DEBUG to stderr; it ships the dictionary
    # and never downloads anything.
    jieba.setLogLevel(logging.WARNING)
    return list(jieba.lcut_for_search(text))


def tokenise(text: str) -> list[str]:
    """Lowercase word tokens of ``text``; Chinese is segmented, punctuation dropped.

    Single Latin letters or digits are dropped (too common to mean anything); a
    single Chinese character is a word (茶, 米) and kept.
    """
    if not text:
        return []
    text = text.lower()
    if not _CJK.search(text):
        return [w for w in _WORD.findall(text) if len(w) > 1]
    out: list[str] = []
    for token in _segment(text):
        if _CJK.search(token):
            if _WORD.search(token):
                out.append(token)
        else:
            out.extend(w for w in _WORD.findall(token) if len(w) > 1)
    return out


def _label(text: str) -> str:
    return " ".join(text.lower().split())


def _analyse(doc: tuple[str, str, str, str]) -> list[str]:
    """Tokens of one item (title, description, category, brand), fields weighted."""
    title, description, category, brand = doc
    tokens = tokenise(title) * _TITLE_WEIGHT
    for text in (description, category, brand):
        tokens.extend(tokenise(text))
    if category.strip():
        # Every level of the path: "Grocery > Breakfast" gives cat:grocery and
        # cat:grocery>breakfast, so siblings share the parent token.
        levels = [_label(p) for p in category.split(">") if p.strip()]
        for i in range(len(levels)):
            tokens.extend([f"cat:{'>'.join(levels[: i + 1])}"] * _FIELD_WEIGHT)
    if brand.strip():
        tokens.extend([f"brand:{_label(brand)}"] * _FIELD_WEIGHT)
    return tokens


def _documents(catalog: pd.DataFrame, items: np.ndarray) -> list[tuple[str, str, str, str]]:
    """One (title, description, category, brand) per item; empty for items not in the catalog."""
    frame = catalog.assign(product_id=catalog["product_id"].astype(str)).drop_duplicates(
        "product_id"
    )
    texts = pd.DataFrame(index=pd.Index(items, name="product_id"))
    by_id = frame.set_index("product_id")
    for column in _TEXT_COLUMNS:
        values = by_id[column] if column in by_id.columns else pd.Series(dtype=object)
        texts[column] = values.reindex(texts.index).fillna("").astype(str).to_numpy()
    return list(texts.itertuples(index=False, name=None))


def _top_neighbours(x: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Cosine similarity of the (l2-normalised) rows, top ``k`` per row, no diagonal."""
    n = x.shape[0]
    xt = sp.csr_matrix(x.T)
    step = max(1, _CELLS // max(n, 1))
    rows: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    cols: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    vals: list[np.ndarray] = [np.zeros(0, dtype=np.float32)]
    for start in range(0, n, step):
        block = sp.csr_matrix(x[start : start + step] @ xt, dtype=np.float32)
        r = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
        keep = (block.indices != start + r) & (block.data > 0)
        r, c, v = r[keep], block.indices[keep], block.data[keep]
        # Rows stay contiguous (CSR order); only rows with more than k entries need
        # a cut, and a partition of a row's entries is far cheaper than of a dense
        # row of every item.
        bounds = np.searchsorted(r, np.arange(block.shape[0] + 1))
        mask = np.ones(len(v), dtype=bool)
        for i in np.flatnonzero(np.diff(bounds) > k):
            lo, hi = bounds[i], bounds[i + 1]
            mask[lo + np.argpartition(v[lo:hi], hi - lo - k)[: hi - lo - k]] = False
        rows.append(start + r[mask])
        cols.append(c[mask])
        vals.append(v[mask])
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n, n),
        dtype=np.float32,
    )


class ContentBased(Recommender):
    """Items whose catalog text is like the text of what the user bought.

    ``catalog`` is the shop's ``products`` table: ``product_id`` and ``title``,
    optionally ``description``, ``category`` and ``brand``. Items of the
    interactions that are not in the catalog have no text and are never
    recommended by this model; catalog products outside the interactions' item
    universe are ignored (build the interactions with ``items=`` the catalog's
    ids to serve new products). Each item keeps its ``neighbours`` most similar
    items, itself excluded; users are scored as ``recency(half_life) @ sim``.
    """

    name = "content"

    def __init__(
        self,
        catalog: pd.DataFrame | None = None,
        *,
        half_life: float | None = 4.0,
        max_features: int = 50000,
        neighbours: int = 50,
    ) -> None:
        if half_life is not None and half_life <= 0:
            raise ConfigError(f"content: half_life must be positive, not {half_life}")
        if max_features < 1:
            raise ConfigError(f"content: max_features must be >= 1, not {max_features}")
        if neighbours < 1:
            raise ConfigError(f"content: neighbours must be >= 1, not {neighbours}")
        # Private: params() and repr() would print the whole table otherwise.
        self._catalog = catalog
        self.half_life = half_life
        self.max_features = max_features
        self.neighbours = neighbours

    def __getstate__(self) -> dict[str, Any]:
        # A saved model serves from its TF-IDF rows; the catalog (descriptions of
        # every product) would only make the file large.
        state = self.__dict__.copy()
        state["_catalog"] = None
        return state

    def _fit(self, data: Interactions) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        catalog = self._catalog
        if catalog is None:
            raise ConfigError(
                "content: needs the catalog (the products table with product_id and "
                "title); pass it as ContentBased(catalog)"
            )
        missing = [c for c in ("product_id", "title") if c not in catalog.columns]
        if missing:
            raise ConfigError(f"content: the catalog has no column {', '.join(missing)}")
        docs = _documents(catalog, data.items)
        vectoriser = TfidfVectorizer(
            analyzer=_analyse, max_features=self.max_features, dtype=np.float32
        )
        try:
            tfidf = vectoriser.fit_transform(docs)
        except ValueError:  # scikit-learn: "empty vocabulary"
            tfidf = None
        if tfidf is None or tfidf.nnz == 0:
            raise ConfigError(
                f"content: none of the {data.n_items} items has catalog text (title, "
                "description, category or brand) to compare"
            )
        self._tfidf = sp.csr_matrix(tfidf, dtype=np.float32)
        self._sim = _top_neighbours(self._tfidf, self.neighbours)

    def _score(self, data: Interactions, users: np.ndarray) -> np.ndarray:
        h = data.counts()[users] if self.half_life is None else data.recency(self.half_life)[users]
        return np.asarray((h @ self._sim).toarray())

    def similar(self, item: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` items whose text is closest to ``item``'s (itself excluded), and
        their cosine similarities; empty when the item has no text. Works for items
        nobody has interacted with."""
        if not hasattr(self, "_tfidf"):
            raise ConfigError("content: fit the model before asking for similar items")
        if not 0 <= item < self._tfidf.shape[0]:
            raise ConfigError(f"content: item codes lie in 0..{self._tfidf.shape[0] - 1}")
        row = np.asarray((self._tfidf[item] @ self._tfidf.T).toarray()).ravel()
        row[item] = -np.inf
        order = np.argsort(-row, kind="stable")[: max(n, 0)]
        keep = row[order] > 0
        return order[keep], row[order][keep]

    def explain(self, data: Interactions, user: int, item: int) -> str:
        bought = data.counts()[user].indices
        bought = bought[bought != item]
        if len(bought):
            sims = np.asarray((self._tfidf[bought] @ self._tfidf[item].T).toarray()).ravel()
            if sims.max() > 0:
                return f"like {data.items[bought[int(np.argmax(sims))]]}, which you bought"
        return "its description is like those of products you bought"
