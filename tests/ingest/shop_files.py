"""A tiny, valid shop as CSV text, for tests to copy and then break on purpose."""

from __future__ import annotations

from pathlib import Path

PRODUCTS = """product_id,title,category,price,cost,colour
P1,有机燕麦片 Organic oats,Grocery > Breakfast,39.9,21.5,beige
P2,Milk 牛奶,Grocery > Dairy,12.5,8,
P3,Phone case,Electronics,59,20,black
"""
CUSTOMERS = """customer_id,created_at,city,email,consent_marketing
C1,2024-01-02T10:00:00+08:00,上海,a@example.com,true
C2,2024-02-03,Berlin,b@example.com,no
"""
LOCATIONS = """location_id,name,kind
WH1,Main warehouse,warehouse
"""
ORDERS = """order_id,customer_id,ordered_at,location_id,status,shipped_at,delivered_at
O1,C1,2024-11-11T00:03:12+08:00,WH1,delivered,2024-11-11T09:00:00+08:00,2024-11-12T15:00:00+08:00
O2,,2024-11-12T10:00:00Z,WH1,paid,,
O3,C2,2024-11-13 08:30:00,,shipped,2024-11-14,
"""
ORDER_LINES = """order_id,product_id,quantity,unit_price,discount
O1,P1,2,39.9,8
O1,P2,1,12.5,
O2,P2,3,12.5,
O3,P3,1,59,0
"""
EVENTS = """at,event,customer_id,session_id,product_id,query
2024-11-10T20:00:00+08:00,view,C1,s1,P1,
2024-11-10T20:01:00+08:00,cart,C1,s1,P1,
2024-11-10T20:02:00+08:00,search,,s2,,燕麦
"""

TABLES = {
    "products": PRODUCTS,
    "customers": CUSTOMERS,
    "locations": LOCATIONS,
    "orders": ORDERS,
    "order_lines": ORDER_LINES,
    "events": EVENTS,
}


def write_shop(folder: Path, **overrides: str) -> Path:
    """Write the tiny shop into ``folder``; ``overrides`` replace a table's text."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in {**TABLES, **overrides}.items():
        (folder / f"{name}.csv").write_text(body, encoding="utf-8")
    return folder
