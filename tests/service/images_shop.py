"""A small shop of product photos with its image model, shared by the images API, CLI,
dashboard and browser tests.

Real Fashion-MNIST pictures (Debian's ``dataset-fashion-mnist``) written as PNG files
in a contract folder beside ``products.csv`` and ``product_images.csv`` (relative
paths), loaded through ``load_folder`` and trained with the ``images`` job, cut short
so that it takes seconds. Four products carry a wrong category, as a careless upload
would. Needs PyTorch: the callers skip without it or without the data set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from shopkeeper.ingest import load_folder
from shopkeeper.jobs import current_artifact, run_job
from shopkeeper.store import Store
from shopkeeper.workspace import Workspace
from tests.service.artifacts import new_workspace

if TYPE_CHECKING:  # PyTorch-free, but the callers skip before they need it
    from shopkeeper.images import ImageModel

#: Four classes that look nothing alike, so a short training separates them.
CLASSES = {1: "Fashion > Trousers", 5: "Fashion > Sandals", 8: "Bags", 3: "Fashion > Dresses"}
PER_CLASS = 40
#: Wrongly labelled products: id -> the category they were given.
PLANTED = {
    "P-1-003": "Bags",
    "P-5-007": "Fashion > Dresses",
    "P-8-011": "Fashion > Trousers",
    "P-3-013": "Fashion > Sandals",
}
#: Products without a category: the model suggests one.
UNLABELLED = ("P-8-040", "P-1-040")
#: Short training: enough to separate four unlike classes, in seconds on two cores.
QUICK = {"epochs": 4, "min_steps": 60, "folds": 2, "neighbours": 10, "threads": 2}


@dataclass
class ImagesShop:
    store: Store
    workspace: Workspace
    folder: Path  # the contract folder with the photos
    job_id: str

    def model(self) -> ImageModel:
        """The image model the job saved, loaded from its artifact."""
        from shopkeeper.images import ARTIFACT, ImageModel

        found = current_artifact(self.workspace, "images")
        assert found is not None
        return ImageModel.load(found / ARTIFACT)


def require_vision() -> None:
    """Skip unless PyTorch and Fashion-MNIST are here."""
    pytest.importorskip("torch")
    from shopkeeper.images import fashion_mnist_available, fashion_mnist_folder

    if not fashion_mnist_available():
        pytest.skip(
            f"Fashion-MNIST not found in {fashion_mnist_folder()}: install the Debian "
            "package dataset-fashion-mnist or set SHOPKEEPER_FASHION_MNIST"
        )


def write_photo_shop(folder: Path) -> Path:
    """The contract folder: products, product_images and one PNG per product."""
    from shopkeeper.images import load_fashion_mnist

    x, y = load_fashion_mnist("train", limit=4000)
    (folder / "images").mkdir(parents=True)
    products, photos = [], []
    for label, category in CLASSES.items():
        for j, i in enumerate(np.flatnonzero(y == label)[: PER_CLASS + 1]):
            pid = f"P-{label}-{j:03d}"
            # A dark product on white, as a studio shot.
            Image.fromarray(255 - x[i]).save(folder / "images" / f"{pid}.png")
            stated = None if pid in UNLABELLED else PLANTED.get(pid, category)
            products.append({"product_id": pid, "title": f"Item {pid}", "category": stated})
            photos.append({"product_id": pid, "path": f"images/{pid}.png", "is_primary": True})
    pd.DataFrame(products).to_csv(folder / "products.csv", index=False)
    pd.DataFrame(photos).to_csv(folder / "product_images.csv", index=False)
    return folder


_BUILT: list[ImagesShop] = []


def images_shop(factory: pytest.TempPathFactory) -> ImagesShop:
    """The photo shop with its trained image model, built on first use."""
    require_vision()
    if _BUILT:
        return _BUILT[0]
    root = factory.mktemp("images")
    workspace = new_workspace(root / "ws")
    store = Store(workspace.database_url)
    store.create()
    folder = write_photo_shop(root / "shop")
    load_folder(folder, store)
    job = run_job(store, workspace, "images", QUICK)
    assert job.state == "done", job.error
    _BUILT.append(ImagesShop(store, workspace, folder, job.job_id))
    return _BUILT[0]
