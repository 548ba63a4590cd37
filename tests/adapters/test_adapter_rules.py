"""Adapter rules on tiny hand-written sources (no real data needed).

These cover the edge cases the real files do not contain (rows with no CDs,
a product repeated within an order, empty lines) and the error messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import pytest

from shopkeeper.adapters import ADAPTERS, ENV_VAR, convert, default_source
from shopkeeper.errors import ConfigError, SourceError

Check = Callable[[Mapping[str, pd.DataFrame]], None]


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return folder


def test_registry_describes_every_adapter() -> None:
    assert {"instacart", "cdnow", "cdnow_sample", "groceries", "dominicks"} <= set(ADAPTERS)
    for name, adapter in ADAPTERS.items():
        assert adapter.name == name
        assert adapter.folder and adapter.description and adapter.files
        assert callable(adapter.function)


def test_unknown_data_set_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="adapters exist for"):
        convert("nope")


def test_missing_data_names_the_path_and_the_way_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    assert default_source("cdnow") == tmp_path / "nowhere" / "cdnow"
    with pytest.raises(ConfigError) as err:
        convert("cdnow")
    assert str(tmp_path / "nowhere" / "cdnow") in str(err.value)
    assert ENV_VAR in str(err.value)
    with pytest.raises(ConfigError, match="no such file or folder"):
        convert("cdnow", source=tmp_path / "missing")
    with pytest.raises(ConfigError, match=r"CDNOW_master\.txt"):
        convert("cdnow", source=tmp_path)  # folder exists, file does not


def test_env_var_points_at_the_shared_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "groceries", "groceries.csv", "milk,bread,,\n")
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert default_source("groceries") == tmp_path / "groceries"
    assert len(convert("groceries")["order_lines"]) == 2


def test_bad_option_is_a_config_error(tmp_path: Path) -> None:
    folder = _write(tmp_path, "groceries.csv", "milk\n")
    with pytest.raises(ConfigError, match="bad options"):
        convert("groceries", source=folder, colour="red")


CDNOW_MASTER = """ customer_id  date number_of_cds  dollar_value\r
 00001 19970101  1   11.77\r
 00002 19970112  1   12.00\r
 00002 19970112  5   77.00\r
 00003 19970102  0    0.00\r
 00003 19970330  2   20.76\r
"""


def test_cdnow_drops_rows_without_cds_and_keeps_ids(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, check_contract: Check
) -> None:
    folder = _write(tmp_path, "CDNOW_master.txt", CDNOW_MASTER)
    with caplog.at_level(logging.WARNING):
        t = convert("cdnow", source=folder)
    assert "dropped 1 rows with no CDs" in caplog.text
    assert list(t["orders"]["order_id"]) == [
        "00001-19970101-1",
        "00002-19970112-1",
        "00002-19970112-2",
        "00003-19970330-1",
    ]
    assert list(t["customers"]["customer_id"]) == ["00001", "00002", "00003"]
    assert list(t["order_lines"]["unit_price"]) == pytest.approx([11.77, 12.0, 15.4, 10.38])
    check_contract(t)


def test_cdnow_reads_the_sample_layout(tmp_path: Path, check_contract: Check) -> None:
    folder = _write(
        tmp_path,
        "CDNOW_sample.txt",
        " 00004 0001 19970101  2   29.33\n 00004 0001 19970118  2 29.73\n",
    )
    t = convert("cdnow_sample", source=folder)
    assert list(t["customers"]["sample_id"]) == ["0001"]
    assert list(t["order_lines"]["quantity"]) == [2, 2]
    check_contract(t)


def test_cdnow_rejects_a_wrong_layout(tmp_path: Path) -> None:
    folder = _write(tmp_path, "CDNOW_master.txt", "a b c\n1 2 3\n")
    with pytest.raises(SourceError, match="has 3 columns"):
        convert("cdnow", source=folder)


INSTACART = (
    ",order_id,user_id,order_number,order_dow,order_hour_of_day,days_since_prior_order,"
    "product_id,add_to_cart_order,reordered\n"
    "0,10,7,1,0,9,,100,1.0,0.0\n"
    "1,10,7,1,0,9,,101,2.0,0.0\n"
    "2,11,7,2,3,14,30.0,100,1.0,1.0\n"
    "3,11,7,2,3,14,30.0,100,2.0,1.0\n"
    "4,12,7,3,3,14,0.0,101,1.0,1.0\n"
    "5,20,8,1,6,23,,100,1.0,0.0\n"
)


def test_instacart_rules(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, check_contract: Check
) -> None:
    folder = _write(tmp_path, "order_lines.csv", INSTACART)
    with caplog.at_level(logging.WARNING):
        t = convert("instacart", source=folder)
    assert "merged 1 repeated products" in caplog.text
    at = t["orders"].set_index("order_id")["ordered_at"]
    assert at["10"] == pd.Timestamp("2017-01-01 09:00")  # Sunday
    # capped gap of "30": the shortest gap >= 30 days landing on a Wednesday is 31 days
    assert at["11"] == pd.Timestamp("2017-02-01 14:00")
    assert at["12"] == at["11"]  # same day, same hour
    assert at["20"] == pd.Timestamp("2017-01-07 23:00")  # Saturday
    lines = t["order_lines"]
    line = lines[(lines["order_id"] == "11") & (lines["product_id"] == "100")]
    assert line[["quantity", "add_to_cart_order", "reordered"]].to_numpy().tolist() == [[2, 1, 1]]
    end = convert("instacart", source=folder, align="end")["orders"].set_index("order_id")
    assert end.loc["20", "ordered_at"] == pd.Timestamp("2017-01-28 23:00")  # moved 3 weeks
    assert end.loc["12", "ordered_at"] == at["12"]
    check_contract(t)


def test_instacart_reports_missing_columns(tmp_path: Path) -> None:
    folder = _write(tmp_path, "order_lines.csv", ",order_id,user_id\n0,1,2\n")
    with pytest.raises(SourceError, match="lacks the column"):
        convert("instacart", source=folder)


def test_groceries_rules(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, check_contract: Check
) -> None:
    folder = _write(
        tmp_path, "groceries.csv", "whole milk,rolls/buns,whole milk,,\n,,,,\nUHT-milk,,,,\n"
    )
    with caplog.at_level(logging.WARNING):
        t = convert("groceries", source=folder, date="1999-05-01")
    assert "skipped 1 empty lines" in caplog.text
    assert "merged 1 items" in caplog.text
    assert list(t["orders"]["order_id"]) == ["basket-00001", "basket-00003"]
    assert list(t["products"]["product_id"]) == ["rolls-buns", "uht-milk", "whole-milk"]
    lines = t["order_lines"].set_index(["order_id", "product_id"])
    assert lines.loc[("basket-00001", "whole-milk"), "quantity"] == 2
    assert (t["orders"]["ordered_at"] == pd.Timestamp("1999-05-01")).all()
    check_contract(t)


def test_groceries_rejects_clashing_names(tmp_path: Path) -> None:
    folder = _write(tmp_path, "groceries.csv", "rolls/buns,rolls buns\n")
    with pytest.raises(SourceError, match="clash"):
        convert("groceries", source=folder)


def test_writing_refuses_to_mix_data_sets(tmp_path: Path) -> None:
    folder = _write(tmp_path / "src", "groceries.csv", "milk,bread\n")
    out = tmp_path / "out"
    convert("groceries", source=folder, out=out)
    convert("groceries", source=folder, out=out)  # the same conversion again is fine
    assert sorted(p.name for p in out.iterdir()) == [
        "order_lines.csv",
        "orders.csv",
        "products.csv",
    ]
    (out / "customers.csv").write_text("customer_id\n1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"customers\.csv"):
        convert("groceries", source=folder, out=out)
    assert (out / "orders.csv").read_text(encoding="utf-8").splitlines() == [
        "order_id,customer_id,ordered_at",
        "basket-00001,,2000-01-01",
    ]
