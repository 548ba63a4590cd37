"""One small demo shop per test session: generating it takes about a second."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopkeeper.demo import DemoConfig, DemoShop, generate, write_shop


@pytest.fixture(scope="session")
def small_shop() -> DemoShop:
    return generate(DemoConfig.preset("small"))


@pytest.fixture(scope="session")
def written(small_shop: DemoShop, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo_small")
    write_shop(small_shop, folder)
    return folder
