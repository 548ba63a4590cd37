"""A shop's photos end to end: held-out report, planted wrong categories found, suggestions,
similar products, the artifact, the recommender, and the ``images`` job on a store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopkeeper import contract
from shopkeeper.errors import ConfigError, NotFoundError
from shopkeeper.images import (
    MISMATCH,
    UNLABELLED,
    ImageModel,
    ImageSettings,
    VisualSimilarity,
    analyse,
)
from shopkeeper.jobs import write_manifest
from tests.images.conftest import PER_CLASS, SHOP_CLASSES

pytest.importorskip("torch")

SETTINGS = ImageSettings(
    epochs=10,
    min_steps=200,
    batch_size=16,
    width=16,
    embedding=64,
    threads=1,
    folds=3,
    neighbours=5,
)


@pytest.fixture(scope="module")
def model(shop_photos: tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]) -> ImageModel:
    photos, catalog, _ = shop_photos
    return analyse(photos, catalog, SETTINGS)


def test_the_held_out_report(model: ImageModel) -> None:
    report = model.report
    assert report.classes == tuple(sorted(SHOP_CLASSES.values()))
    assert report.labelled_images == 4 * PER_CLASS and report.unlabelled_images == 8
    assert report.confusion.sum() == 4 * PER_CLASS
    assert report.accuracy > 0.85 > report.baseline_accuracy
    assert 0.05 < report.temperature < 20 and 0 <= report.ece < 0.2
    per = report.per_class()
    assert list(per["images"]) == [PER_CLASS] * 4
    body = report.to_dict()
    assert body["confusion"] == report.confusion.tolist() and len(body["per_class"]) == 4
    assert model.metrics()["products"] == 4 * (PER_CLASS + 2)


def test_planted_wrong_categories_are_found(
    model: ImageModel, shop_photos: tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]
) -> None:
    truth = shop_photos[2]
    found = model.mismatches()
    assert (found["status"] == MISMATCH).all()
    assert list(found["p_stated"]) == sorted(found["p_stated"])
    assert (found["p_stated"] <= 1 - SETTINGS.mismatch_confidence).all()
    hits = found[found["product_id"].isin(truth)]
    assert len(hits) >= 3, found
    assert all(truth[r.product_id] == r.predicted for r in hits.itertuples())
    # The planted ones lead the list: at most one honest product ranks above them.
    assert set(found["product_id"].head(len(hits) + 1)) >= set(hits["product_id"])
    first = model.prediction(str(hits.iloc[0]["product_id"]))
    assert first["status"] == MISMATCH and type(first["confidence"]) is float
    assert type(first["held_out"]) is bool


def test_unlabelled_products_get_suggestions(model: ImageModel) -> None:
    found = model.suggestions()
    assert len(found) == 8 and (found["status"] == UNLABELLED).all()
    assert list(found["confidence"]) == sorted(found["confidence"], reverse=True)
    right = [
        SHOP_CLASSES[int(p.split("-")[1])] == c
        for p, c in zip(found["product_id"], found["predicted"], strict=True)
    ]
    assert sum(right) >= 7
    assert not found["held_out"].any()
    assert len(model.suggestions(include_mismatches=True)) > 8


def test_similar_products_look_alike(model: ImageModel) -> None:
    near = model.similar("P-1-000", 5)
    assert len(near) == 5 and "P-1-000" not in set(near["product_id"])
    assert (near["product_id"].str.startswith("P-1-")).sum() >= 4
    assert list(near["similarity"]) == sorted(near["similarity"], reverse=True)
    # More than the stored lists hold: searched on the spot, the first five the same.
    more = model.similar("P-1-000", 12)
    assert list(more["product_id"].head(5)) == list(near["product_id"])
    with pytest.raises(NotFoundError, match="no photo"):
        model.similar("NOPE")


def test_the_item_item_matrix_over_another_universe(model: ImageModel) -> None:
    items = ["P-8-000", "unknown", "P-8-001", "P-1-000", "P-8-002"]
    m = model.similarity_matrix(items, k=2)
    assert m.shape == (5, 5) and m[1].nnz == 0 and m[:, 1].nnz == 0
    assert m.diagonal().sum() == 0
    assert m[0, 2] > m[0, 3] and m[0, 4] > m[0, 3]  # bags are closer to bags than trousers


def test_the_visual_recommender(model: ImageModel) -> None:
    from shopkeeper.recommend import Interactions, top_n

    frame = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c2"],
            "product_id": ["P-5-000", "P-5-001", "P-3-000"],
            "at": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
        }
    )
    items = model.catalog["product_id"].tolist()
    data = Interactions.from_frame(frame, items=items)
    rec = VisualSimilarity(model, neighbours=10).fit(data)
    top = top_n(rec.score(data), 5, exclude=data.binary())
    shown = data.items[top[0]]
    assert sum(str(p).startswith("P-5-") for p in shown) >= 4  # sandals for the sandal buyer
    assert "looks like P-5-00" in rec.explain(data, 0, int(top[0, 0]))
    codes, sims = rec.similar(int(np.flatnonzero(data.items == "P-3-000")[0]), 3)
    assert len(codes) == 3 and sims[0] >= sims[-1]
    assert rec.params() == {"half_life": 4.0, "neighbours": 10, "min_similarity": 0.0}
    with pytest.raises(ConfigError, match="needs a trained image model"):
        VisualSimilarity().fit(data)

    # One more component of the hybrid, as the recommendations would blend it.
    from shopkeeper.recommend import Hybrid, Popularity

    blend = Hybrid([Popularity(), VisualSimilarity(model)], [0.2, 1.0]).fit(data)
    assert blend.score(data).shape == (2, len(items))
    assert "visual" in blend.params()["weights"]


def test_new_photos_are_classified(model: ImageModel) -> None:
    path = model.catalog.set_index("product_id").at["P-8-000", "path"]
    found = model.classify([path])
    assert found.loc[0, "predicted"] == "Bags" and len(found.loc[0, "alternatives"]) == 2
    with open(path, "rb") as upload:
        assert model.classify([upload]).loc[0, "path"] == path
    near = model.similar_to_image(path, 3)
    assert near.loc[0, "product_id"] == "P-8-000" and near.loc[0, "similarity"] > 0.99


def test_the_artifact_round_trip(model: ImageModel, tmp_path: Path) -> None:
    folder = tmp_path / "images" / "job1"
    folder.mkdir(parents=True)
    model.save(folder / "images.pkl")
    write_manifest(folder)
    again = ImageModel.load(folder / "images.pkl")
    assert again.metrics() == model.metrics()
    assert again.similar("P-3-004", 5).equals(model.similar("P-3-004", 5))
    assert np.array_equal(again.embeddings, model.embeddings)
    assert again.mismatches().equals(model.mismatches())


def test_too_few_labelled_photos_are_refused(
    shop_photos: tuple[pd.DataFrame, pd.DataFrame, dict[str, str]],
) -> None:
    photos, catalog, _ = shop_photos
    with pytest.raises(ConfigError, match="at least two categories with 100 readable"):
        analyse(photos, catalog, ImageSettings(min_images=100, threads=1))
    with pytest.raises(ConfigError, match="folds=1"):
        ImageSettings(folds=1)
    with pytest.raises(ConfigError, match="unknown images parameters"):
        ImageSettings.from_params({"epoch": 3})


@pytest.mark.skipif(
    "product_images" not in contract.table_names(),
    reason="the contract has no product_images table yet",
)
def test_the_images_job_on_a_store(
    sqlite_store: object,
    tmp_path: Path,
    shop_photos: tuple[pd.DataFrame, pd.DataFrame, dict[str, str]],
) -> None:
    from shopkeeper.images import load_image_model
    from shopkeeper.ingest import load_frames
    from shopkeeper.jobs import run_job
    from shopkeeper.workspace import Workspace

    photos, catalog, _ = shop_photos
    keep = catalog["product_id"].str.match(r"P-[18]-")  # two categories: a quick run
    load_frames(
        {
            "products": catalog[keep],
            "product_images": photos[photos["product_id"].isin(catalog.loc[keep, "product_id"])],
        },
        sqlite_store,  # type: ignore[arg-type]
    )
    ws = Workspace(tmp_path / "ws", "unused")
    params = {"epochs": 4, "min_steps": 0, "threads": 1, "width": 8, "neighbours": 3}
    job = run_job(sqlite_store, ws, "images", params)  # type: ignore[arg-type]
    assert job.state == "done", job.error
    assert job.metrics is not None and job.metrics["categories"] == 2
    served = load_image_model(ws)
    assert len(served.catalog) == 2 * (PER_CLASS + 2)
    assert len(served.similar("P-1-000", 3)) == 3
