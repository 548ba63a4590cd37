"""shopkeeper imports, and serves a trained image model, without PyTorch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

_BLOCK_TORCH = (
    "import sys\n"
    "class _NoTorch:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name == 'torch' or name.startswith('torch.'):\n"
    "            raise ImportError('torch is blocked in this test')\n"
    "sys.meta_path.insert(0, _NoTorch())\n"
)


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_shopkeeper_does_not_import_torch() -> None:
    out = _run(
        "import sys\n"
        "import shopkeeper, shopkeeper.cli, shopkeeper.images, shopkeeper.images._analysis\n"
        "from shopkeeper.jobs import job_kinds\n"
        "job_kinds()\n"
        "print('torch' in sys.modules, 'faiss' in sys.modules)\n"
    )
    assert out.split() == ["False", "False"]


def test_without_torch_the_error_says_how_to_install_it() -> None:
    out = _run(
        _BLOCK_TORCH + "import pandas as pd\n"
        "from shopkeeper.errors import ConfigError\n"
        "from shopkeeper.images import analyse, torch_available\n"
        "try:\n"
        "    analyse(pd.DataFrame(), pd.DataFrame())\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
    )
    assert "pip install 'shopkeeper[vision]'" in out and "the images job needs PyTorch" in out


def test_a_saved_model_serves_similar_products_without_torch(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import numpy as np
    import pandas as pd

    from shopkeeper.images import ImageModel, ImageSettings, analyse

    rng = np.random.default_rng(0)
    folder = tmp_path / "photos"
    folder.mkdir()
    from PIL import Image

    rows, products = [], []
    for i in range(24):
        img = np.zeros((28, 28), dtype=np.uint8)
        if i % 2:
            img[4:24, 12:16] = 255  # a bar
        else:
            img[10:18, 4:24] = 255  # a slab
        img = np.clip(img + rng.integers(0, 40, img.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"{i}.png")
        rows.append({"product_id": f"p{i}", "path": str(folder / f"{i}.png")})
        products.append({"product_id": f"p{i}", "title": f"t{i}", "category": "ab"[i % 2]})
    settings = ImageSettings(epochs=2, min_steps=0, width=8, threads=1, min_images=5, neighbours=3)
    model = analyse(pd.DataFrame(rows), pd.DataFrame(products), settings)
    model.save(tmp_path / "images.pkl")
    out = _run(
        _BLOCK_TORCH + "from pathlib import Path\n"
        "from shopkeeper.images import ImageModel, torch_available\n"
        f"model = ImageModel.load(Path({str(tmp_path / 'images.pkl')!r}))\n"
        "near = model.similar('p1', 3)\n"
        "print(len(near), len(model.mismatches()) >= 0, 'torch' in sys.modules)\n"
    )
    assert out.split() == ["3", "True", "False"]
    assert isinstance(model, ImageModel)
