"""Photos for the demo shop's fashion products, drawn from Fashion-MNIST.

Fashion-MNIST (Zalando's article photos, 28x28 grey, ten classes) is read
from Debian's ``dataset-fashion-mnist`` package, or from the folder that
``SHOPKEEPER_FASHION_MNIST`` names. Each fashion product type with a fitting
class gets one primary photo of that class, a distinct real image drawn from
the test split (so a model trained on the training split has never seen it);
some get a second, non-primary one. The classes are split between the
sub-categories so that no two share one (a trench coat would look like the
men's jackets, so it gets no photo): a sub-category is then recognisable
from its photos alone. About 3% of the imaged products show a photo of
another sub-category's class instead, the wrong photo real catalogs carry;
the ground truth's ``images`` entry lists them (``mismatched_product_ids``)
so that a categoriser's mismatch list can be scored. Without the data set the
demo has no images, and says how to get them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from shopkeeper.demo._catalog import Catalog
from shopkeeper.demo._vocab import SUBS
from shopkeeper.errors import ConfigError

# The one Fashion-MNIST reader (numpy only): the module, not the images package, whose
# other parts the demo does not need.
from shopkeeper.images._fashion import FASHION_CLASSES as CLASSES
from shopkeeper.images._fashion import fashion_mnist_folder as fashion_folder
from shopkeeper.images._fashion import load_fashion_mnist

log = logging.getLogger(__name__)

IMAGES_FOLDER = "images"
#: (sub-category, product type) -> the Fashion-MNIST class its photos show.
#: Types missing here have no fitting class, or one another sub-category owns.
IMAGE_CLASS: dict[tuple[str, str], int] = {
    ("Women", "Dress"): 3,
    ("Women", "Knit Sweater"): 2,
    ("Women", "T-shirt"): 0,
    ("Men", "Shirt"): 6,
    ("Men", "Polo Shirt"): 6,
    ("Men", "Jacket"): 4,
    ("Men", "Down Jacket"): 4,
    ("Men", "Chinos"): 1,
    ("Shoes", "Running Shoes"): 7,
    ("Shoes", "Canvas Sneakers"): 7,
    ("Shoes", "Ankle Boots"): 9,
    ("Shoes", "Slippers"): 5,
    ("Bags", "Backpack"): 8,
    ("Bags", "Tote Bag"): 8,
    ("Bags", "Wallet"): 8,
}
MISMATCH_SHARE = 0.03
SECOND_PHOTO_SHARE = 0.2
_SPLITS: tuple[Literal["test"], Literal["train"]] = ("test", "train")  # unseen split first


@dataclass
class DemoImages:
    """The demo's product photos: one row per image file.

    ``pixels[i]`` is the 28x28 grey image of row ``i``, shown for
    ``product_id[i]`` (its primary photo where ``is_primary[i]``) and of
    Fashion-MNIST class ``label[i]``.
    """

    product_id: np.ndarray
    is_primary: np.ndarray
    pixels: np.ndarray
    label: np.ndarray

    @property
    def file_names(self) -> list[str]:
        """``<product_id>.png`` for a primary photo, ``<product_id>-2.png`` for a second one."""
        return [
            f"{pid}.png" if primary else f"{pid}-2.png"
            for pid, primary in zip(self.product_id, self.is_primary, strict=True)
        ]

    def frame(self) -> pd.DataFrame:
        """The ``product_images`` rows, with paths relative to the shop's folder."""
        return pd.DataFrame(
            {
                "product_id": pd.Series(self.product_id, dtype="string"),
                "path": pd.Series(
                    [f"{IMAGES_FOLDER}/{name}" for name in self.file_names], dtype="string"
                ),
                "is_primary": self.is_primary.astype(bool),
            }
        )


def build_images(
    rng: np.random.Generator, cat: Catalog
) -> tuple[DemoImages | None, dict[str, Any]]:
    """Photos for the catalog's fashion products, and the ground truth's ``images`` entry.

    The photos are None (and a warning says how to get them) without the data set.
    """
    folder = fashion_folder()
    try:
        images, labels = load_fashion_mnist(_SPLITS[0], folder=folder)
    except ConfigError as exc:  # the message says how to get the files
        reason = str(exc)
        log.warning("the demo shop has no product images: %s", reason)
        return None, _no_photos(reason)

    sub_names = [s.name for s in SUBS]
    item_en = np.asarray(cat.item_en.to_numpy(zero_copy_only=False), dtype=object)
    pairs = zip(cat.sub, item_en, strict=True)
    wanted = np.array([IMAGE_CLASS.get((sub_names[s], str(item)), -1) for s, item in pairs])
    imaged = np.flatnonzero(wanted >= 0)
    if imaged.size == 0:
        return None, _no_photos("no product of the catalog has a type with photos")
    shown = wanted.copy()

    # The wrong photos: another imaged sub-category's class, never the product's own.
    class_sub = {c: sub for (sub, _), c in IMAGE_CLASS.items()}
    n_wrong = max(1, round(MISMATCH_SHARE * imaged.size))
    wrong = np.sort(rng.choice(imaged, size=n_wrong, replace=False))
    for p in wrong:
        others = sorted(c for c, sub in class_sub.items() if sub != sub_names[cat.sub[p]])
        shown[p] = others[rng.integers(len(others))]

    # A second, non-primary photo for some products whose photo is right.
    right = np.setdiff1d(imaged, wrong)
    second = np.sort(right[rng.random(right.size) < SECOND_PHOTO_SHARE])
    rows = np.concatenate([imaged, second])
    primary = np.concatenate([np.ones(imaged.size, bool), np.zeros(second.size, bool)])
    order = np.lexsort((~primary, rows))
    rows, primary = rows[order], primary[order]
    label = shown[rows]

    picks = _distinct_images(rng, label, images, labels, folder)
    truth = _truth(cat, imaged, wanted, shown, wrong, rows.size)
    log.info("demo images: %d photos of %d products, %d wrong", rows.size, imaged.size, n_wrong)
    photos = DemoImages(
        product_id=np.asarray(cat.product_id[rows], dtype=object),
        is_primary=primary,
        pixels=picks,
        label=label,
    )
    return photos, truth


def _distinct_images(
    rng: np.random.Generator,
    label: np.ndarray,
    images: np.ndarray,
    labels: np.ndarray,
    folder: Path,
) -> np.ndarray:
    """One image of class ``label[i]`` per row, no image used twice while the splits last."""
    need = np.bincount(label, minlength=len(CLASSES))
    if (need > np.bincount(labels, minlength=len(CLASSES))).any():
        # A very large catalog: the training split tops the pools up.
        try:
            more, more_labels = load_fashion_mnist(_SPLITS[1], folder=folder)
            images = np.concatenate([images, more])
            labels = np.concatenate([labels, more_labels])
        except ConfigError as exc:
            log.info("Fashion-MNIST %s split not read (%s); photos repeat", _SPLITS[1], exc)
    out = np.empty((label.size, *images.shape[1:]), dtype=np.uint8)
    for c in np.flatnonzero(need):
        pool = np.flatnonzero(labels == c)
        chosen = rng.permutation(pool)
        chosen = np.resize(chosen, need[c])  # repeats only beyond the pool
        out[label == c] = images[chosen]
    return out


def _truth(
    cat: Catalog,
    imaged: np.ndarray,
    wanted: np.ndarray,
    shown: np.ndarray,
    wrong: np.ndarray,
    n_files: int,
) -> dict[str, Any]:
    item_en = np.asarray(cat.item_en.to_numpy(zero_copy_only=False), dtype=object)
    category = [f"{SUBS[s].top} > {SUBS[s].name}" for s in cat.sub]
    by_category: dict[str, list[str]] = {}
    for (sub, _), c in sorted(IMAGE_CLASS.items(), key=lambda kv: kv[1]):
        names = by_category.setdefault(f"Fashion > {sub}", [])
        if CLASSES[c] not in names:
            names.append(CLASSES[c])
    category_of_class = {c: f"Fashion > {sub}" for (sub, _), c in IMAGE_CLASS.items()}
    return {
        "source": "Fashion-MNIST test split (t10k), 28x28 grey, written as PNG",
        "folder": IMAGES_FOLDER,
        "classes": list(CLASSES),
        "class_by_product_type": {
            f"Fashion > {sub} > {item}": CLASSES[c] for (sub, item), c in IMAGE_CLASS.items()
        },
        "classes_by_category": by_category,
        "imaged_products": int(imaged.size),
        "files": int(n_files),
        "products": {
            "product_id": [str(cat.product_id[p]) for p in imaged],
            "shown_class": [CLASSES[shown[p]] for p in imaged],
        },
        "mismatch_rule": "the primary (and only) photo of these products shows a class that "
        "belongs to another sub-category; every other photo shows its product type's class",
        "mismatched_product_ids": [str(cat.product_id[p]) for p in wrong],
        "mismatches": [
            {
                "product_id": str(cat.product_id[p]),
                "category": category[p],
                "product_type": str(item_en[p]),
                "expected_class": CLASSES[wanted[p]],
                "shown_class": CLASSES[shown[p]],
                "looks_like_category": category_of_class[shown[p]],
            }
            for p in wrong
        ],
    }


def _no_photos(reason: str) -> dict[str, Any]:
    """The ground truth's ``images`` entry of a shop without photos."""
    return {
        "source": None,
        "why_none": reason,
        "imaged_products": 0,
        "files": 0,
        "mismatched_product_ids": [],
        "mismatches": [],
    }


def write_images(images: DemoImages | None, folder: Path) -> None:
    """Write the photos as ``folder/images/*.png``; remove photos of an earlier shop."""
    from PIL import Image

    out = folder / IMAGES_FOLDER
    # The folder belongs to the demo: an earlier shop's photos would only confuse.
    if out.is_dir():
        for old in out.glob("*.png"):
            old.unlink()
    if images is None:
        return
    out.mkdir(parents=True, exist_ok=True)
    for name, pixels in zip(images.file_names, images.pixels, strict=True):
        Image.fromarray(pixels).save(out / name, format="PNG")  # uint8, 2-D: grey ("L")
