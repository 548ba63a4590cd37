"""Product images: each file is checked, problems are located, and a refused load writes nothing."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from shopkeeper.errors import ContractError, Problem
from shopkeeper.info import describe
from shopkeeper.ingest import _images, load_folder, load_frames
from shopkeeper.store import Store
from tests.ingest.shop_files import write_shop

HEADER = "product_id,path,is_primary\n"


def _image(path: Path, size: tuple[int, int] = (28, 28)) -> Path:
    """A noisy grey image saved at ``path``, in the format its suffix names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(0).integers(0, 256, size=(size[1], size[0]), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def _shop(folder: Path, rows: str) -> Path:
    """The tiny shop with a good image for P1 and ``rows`` as further product_images rows."""
    _image(folder / "images" / "p1.png")
    return write_shop(folder, product_images=HEADER + "P1,images/p1.png,true\n" + rows)


@pytest.fixture
def loaded(tmp_path: Path, store: Store) -> Store:
    """A store holding the tiny shop with one image, so "unchanged" means something."""
    load_folder(_shop(tmp_path / "good", ""), store)
    return store


def _refused(store: Store, folder: Path) -> Problem:
    """Load ``folder``, expect exactly one problem, and check the store did not change."""
    before = store.checksums()
    with pytest.raises(ContractError) as caught:
        load_folder(folder, store)
    assert store.checksums() == before
    assert caught.value.total == 1, caught.value.problems
    return caught.value.problems[0]


def test_a_good_image_loads_with_its_absolute_path(tmp_path: Path, store: Store) -> None:
    folder = _shop(tmp_path / "shop", "P2,images/p2.png,\n")
    _image(folder / "images" / "p2.png", (40, 60))
    result = load_folder(folder, store)

    assert {t.table: t.rows for t in result.tables}["product_images"] == 2
    stored = store.read("product_images").set_index("product_id")
    assert stored.loc["P1", "path"] == os.path.abspath(folder / "images" / "p1.png")
    assert bool(stored.loc["P1", "is_primary"]) is True
    assert pd.isna(stored.loc["P2", "is_primary"])


def test_relative_paths_are_read_from_the_files_folder_not_the_working_one(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _shop(tmp_path / "exports", "")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    load_folder(os.path.relpath(folder, elsewhere), store)
    assert store.read("product_images")["path"].tolist() == [
        os.path.abspath(folder / "images" / "p1.png")
    ]


def test_a_file_url_is_a_local_file(tmp_path: Path, store: Store) -> None:
    picture = _image(tmp_path / "pictures" / "with space.png")
    url = "file://" + str(picture).replace(" ", "%20")
    load_folder(_shop(tmp_path / "shop", f"P2,{url},false\n"), store)
    paths = store.read("product_images").set_index("product_id")["path"]
    assert paths["P2"] == str(picture)


def test_a_missing_file(tmp_path: Path, loaded: Store) -> None:
    folder = _shop(tmp_path / "bad", "P2,images/nope.png,\n")
    problem = _refused(loaded, folder)
    assert (problem.source, problem.line, problem.column, problem.value) == (
        "product_images.csv",
        3,
        "path",
        "images/nope.png",
    )
    assert problem.rule == (
        f"names a file that does not exist (relative paths are read from {os.path.abspath(folder)})"
    )


def test_a_directory(tmp_path: Path, loaded: Store) -> None:
    folder = _shop(tmp_path / "bad", "P2,images,\n")
    assert str(_refused(loaded, folder)) == (
        "product_images.csv line 3: path 'images' names a directory, not an image file"
    )


def test_a_file_that_is_no_image(tmp_path: Path, loaded: Store) -> None:
    folder = _shop(tmp_path / "bad", "P2,images/notes.png,\n")
    (folder / "images" / "notes.png").write_text("not a picture", encoding="utf-8")
    assert str(_refused(loaded, folder)) == (
        "product_images.csv line 3: path 'images/notes.png' names a file that is not an "
        "image Pillow can read (PNG, JPEG, WebP, GIF, ...)"
    )


@pytest.mark.parametrize("suffix", ["png", "jpg"])
def test_a_truncated_image(tmp_path: Path, loaded: Store, suffix: str) -> None:
    folder = _shop(tmp_path / "bad", f"P2,images/cut.{suffix},\n")
    whole = folder / "images" / f"whole.{suffix}"
    _image(whole, (120, 90))
    data = whole.read_bytes()
    (folder / "images" / f"cut.{suffix}").write_bytes(data[: len(data) // 2])
    problem = _refused(loaded, folder)
    assert (problem.line, problem.column, problem.value) == (3, "path", f"images/cut.{suffix}")
    assert problem.rule == "names a damaged or truncated image"


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("https://cdn.example.com/p2.jpg", _images.WEB_ADDRESS),
        ("http://cdn.example.com/p2.jpg", _images.WEB_ADDRESS),
        ("s3://bucket/p2.jpg", _images.OTHER_URL),
        ("file://fileserver/share/p2.png", _images.REMOTE_FILE_URL),
    ],
)
def test_addresses_that_are_not_local_files(
    tmp_path: Path, loaded: Store, value: str, rule: str
) -> None:
    problem = _refused(loaded, _shop(tmp_path / "bad", f"P2,{value},\n"))
    assert (problem.line, problem.column, problem.value, problem.rule) == (3, "path", value, rule)
    assert "download images first; only local files are read" in _images.WEB_ADDRESS


def test_an_image_over_the_pixel_limit(
    tmp_path: Path, loaded: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _shop(tmp_path / "bad", "P2,images/big.png,\n")
    _image(folder / "images" / "big.png", (200, 200))
    # A real decompression bomb is a gigapixel; the limit is lowered instead.
    monkeypatch.setattr(_images, "IMAGE_MAX_PIXELS", 30_000)
    problem = _refused(loaded, folder)
    assert (problem.line, problem.value) == (3, "images/big.png")
    assert problem.rule == _images.TOO_MANY_PIXELS


def test_a_path_written_two_ways_is_one_key(tmp_path: Path, loaded: Store) -> None:
    problem = _refused(loaded, _shop(tmp_path / "bad", "P1,./images/../images/p1.png,\n"))
    assert (problem.line, problem.column) == (3, "product_id, path")
    assert "duplicates the key (product_id, path)" in problem.rule


def test_an_unknown_product(tmp_path: Path, loaded: Store) -> None:
    problem = _refused(loaded, _shop(tmp_path / "bad", "P404,images/p1.png,\n"))
    assert (problem.line, problem.column, problem.value) == (3, "product_id", "P404")


def test_report_lists_every_image_problem(tmp_path: Path, loaded: Store) -> None:
    folder = _shop(tmp_path / "bad", "P2,images/nope.png,\nP3,https://x.example/p3.png,\n")
    before = loaded.checksums()
    with pytest.raises(ContractError) as caught:
        load_folder(folder, loaded, report=True)
    assert loaded.checksums() == before
    assert [(p.line, p.value) for p in caught.value.problems] == [
        (3, "images/nope.png"),
        (4, "https://x.example/p3.png"),
    ]


def test_parquet_paths_are_read_from_the_parquet_files_folder(tmp_path: Path, store: Store) -> None:
    folder = _shop(tmp_path / "shop", "")
    (folder / "product_images.csv").unlink()
    table = pa.table({"product_id": ["P1"], "path": ["images/p1.png"], "is_primary": [True]})
    pq.write_table(table, folder / "product_images.parquet")
    load_folder(folder, store)
    assert store.read("product_images")["path"].tolist() == [
        os.path.abspath(folder / "images" / "p1.png")
    ]


def test_rows_from_no_file_need_an_absolute_path(tmp_path: Path, loaded: Store) -> None:
    """Posted rows (the API writes through ``load_frames``) have no folder to resolve against."""
    picture = _image(tmp_path / "abs" / "p2.png")
    frame = pd.DataFrame({"product_id": ["P2", "P3"], "path": [str(picture), "images/p3.png"]})
    before = loaded.checksums()
    with pytest.raises(ContractError) as caught:
        load_frames({"product_images": frame}, loaded)
    assert loaded.checksums() == before
    problem = caught.value.problems[0]
    assert str(problem) == f"product_images (frame) row 2: path 'images/p3.png' {_images.NO_FOLDER}"

    load_frames({"product_images": frame.iloc[:1]}, loaded)
    assert str(picture) in set(loaded.read("product_images")["path"])


def test_info_warns_about_photos_whose_file_is_gone(tmp_path: Path, store: Store) -> None:
    folder = _shop(tmp_path / "shop", "P2,images/p2.png,\n")
    _image(folder / "images" / "p2.png")
    load_folder(folder, store)
    assert "photos_missing" not in {w.code for w in describe(store).warnings}

    (folder / "images" / "p2.png").unlink()
    warning = next(w for w in describe(store).warnings if w.code == "photos_missing")
    assert (warning.count, warning.share) == (1, 0.5)
