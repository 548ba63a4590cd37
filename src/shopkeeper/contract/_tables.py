"""The tables of the data contract, each declared once.

Everything else (the store's schema, ingest's checks, the documentation in
``docs/data-contract.md`` and ``shopkeeper contract``) is derived from these
declarations, so this file is the single place where the contract changes.
"""

from __future__ import annotations

from typing import TypedDict

import pandas as pd

from shopkeeper.contract._model import Column, Kind, Reference, RowRule, Table

ID_MAX = 200


def _id(name: str, doc: str, example: str, *, required: bool = True) -> Column:
    return Column(name, Kind.ID, required, doc, example, max_length=ID_MAX)


def _not_before(later: str, earlier: str) -> RowRule:
    """``later`` may not come before ``earlier`` in the same row (nulls pass)."""

    def broken(df: pd.DataFrame) -> pd.Series:
        return (df[later] < df[earlier]).fillna(False).astype(bool)

    return RowRule((later, earlier), f"must not be before {earlier}", broken)


def _discount_within_line(df: pd.DataFrame) -> pd.Series:
    gross = df["quantity"] * df["unit_price"]
    return (df["discount"] > gross + 1e-9).fillna(False).astype(bool)


class _Bounds(TypedDict, total=False):
    minimum: float
    exclusive_minimum: bool
    maximum: float


NON_NEGATIVE: _Bounds = {"minimum": 0.0}
POSITIVE: _Bounds = {"minimum": 0.0, "exclusive_minimum": True}
SHARE: _Bounds = {"minimum": 0.0, "maximum": 1.0}

PRODUCTS = Table(
    name="products",
    doc="The catalog: one row per product (SKU) the shop sells or sold.",
    columns=(
        _id("product_id", "The shop's own product or SKU identifier.", "SKU-10023"),
        Column(
            "title",
            Kind.TEXT,
            True,
            "Product name, in any language.",
            "有机燕麦片 Organic oats 1kg",
            max_length=500,
        ),
        Column(
            "description",
            Kind.TEXT,
            False,
            "Longer product text.",
            "Whole-grain rolled oats.",
            max_length=20_000,
        ),
        Column(
            "category",
            Kind.TEXT,
            False,
            "Category path or name; '>' separates levels.",
            "Grocery > Breakfast",
            max_length=500,
        ),
        Column("brand", Kind.TEXT, False, "Brand name.", "GoodGrain", max_length=200),
        Column(
            "price",
            Kind.FLOAT,
            False,
            "Current list price in the shop's currency.",
            "39.90",
            **NON_NEGATIVE,
        ),
        Column(
            "cost",
            Kind.FLOAT,
            False,
            "Unit cost to the shop (for margins).",
            "21.50",
            **NON_NEGATIVE,
        ),
        Column("active", Kind.BOOL, False, "Whether the product is still on sale.", "true"),
    ),
    key=("product_id",),
)

#: Longest image path stored: a PostgreSQL index entry must stay under about 2.7 kB.
IMAGE_PATH_MAX = 2_000
#: Image files larger than this are refused unread.
IMAGE_MAX_BYTES = 50 * 2**20
#: Images with more pixels are refused: a small file can decode to gigabytes.
IMAGE_MAX_PIXELS = 64_000_000

PRODUCT_IMAGES = Table(
    name="product_images",
    doc=(
        "Photos of the products, one row per photo: local image files (PNG, JPEG, WebP, ...), "
        "each opened and checked when loaded; web addresses are refused."
    ),
    columns=(
        _id("product_id", "The product shown.", "SKU-10023"),
        Column(
            "path",
            Kind.IMAGE,
            True,
            "The image file: a path, relative to the folder of the file that lists it, or "
            "absolute, or a file:// URL. The store keeps the resolved absolute path, so "
            "readers find the file from any working directory; rows posted without a file "
            "(the API, data frames) need an absolute path or a file:// URL.",
            "images/SKU-10023.png",
            max_length=IMAGE_PATH_MAX,
        ),
        # Not "primary": that is a reserved word in SQL, and every query would have to quote it.
        Column(
            "is_primary",
            Kind.BOOL,
            False,
            "Whether this is the product's main photo; readers take a marked one first.",
            "true",
        ),
    ),
    key=("product_id", "path"),
    references=(Reference("product_id", "products", "product_id"),),
)

CUSTOMERS = Table(
    name="customers",
    doc="People who bought or browsed; personal columns are marked PII.",
    columns=(
        _id("customer_id", "The shop's customer identifier.", "C-000187"),
        Column(
            "created_at",
            Kind.DATETIME,
            False,
            "When the account was created.",
            "2024-03-08T10:21:00+08:00",
        ),
        Column("country", Kind.TEXT, False, "Country name or ISO code.", "CN", max_length=100),
        Column("city", Kind.TEXT, False, "City.", "上海", max_length=200),
        Column(
            "birth_year", Kind.INT, False, "Year of birth.", "1991", minimum=1900.0, maximum=2030.0
        ),
        Column("gender", Kind.TEXT, False, "As the shop records it.", "f", max_length=50),
        Column("name", Kind.TEXT, False, "Full name.", "王芳", max_length=200, pii=True),
        Column(
            "email",
            Kind.TEXT,
            False,
            "E-mail address.",
            "fang@example.com",
            max_length=320,
            pii=True,
        ),
        Column(
            "phone", Kind.TEXT, False, "Phone number.", "+86 138 0000 0000", max_length=50, pii=True
        ),
        Column(
            "consent_personalization",
            Kind.BOOL,
            False,
            "May be shown personalised content and prices.",
            "true",
        ),
        Column("consent_marketing", Kind.BOOL, False, "May be contacted with offers.", "false"),
    ),
    key=("customer_id",),
)

LOCATIONS = Table(
    name="locations",
    doc="Stores and warehouses; a shop with one warehouse needs none.",
    columns=(
        _id("location_id", "The location's identifier.", "WH-SH"),
        Column("name", Kind.TEXT, True, "Display name.", "Shanghai warehouse", max_length=200),
        Column(
            "kind",
            Kind.ENUM,
            True,
            "What the location is.",
            "warehouse",
            choices=("store", "warehouse"),
        ),
        Column("city", Kind.TEXT, False, "City.", "Shanghai", max_length=200),
    ),
    key=("location_id",),
)

ORDER_STATUSES = (
    "placed",
    "paid",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
    "returned",
    "refunded",
)

ORDERS = Table(
    name="orders",
    doc="One row per order; guest and aggregated point-of-sale orders have no customer.",
    columns=(
        _id("order_id", "The shop's order number.", "SO-2024-000981"),
        _id(
            "customer_id",
            "Who ordered; empty for guests and aggregated sales.",
            "C-000187",
            required=False,
        ),
        Column(
            "ordered_at",
            Kind.DATETIME,
            True,
            "When the order was placed.",
            "2024-11-11T00:03:12+08:00",
        ),
        _id("location_id", "Store or warehouse that fulfils it.", "WH-SH", required=False),
        Column("status", Kind.ENUM, False, "Latest status.", "delivered", choices=ORDER_STATUSES),
        Column(
            "promised_at",
            Kind.DATETIME,
            False,
            "Delivery date promised to the customer.",
            "2024-11-14",
        ),
        Column(
            "shipped_at",
            Kind.DATETIME,
            False,
            "When it left the warehouse.",
            "2024-11-12T09:40:00+08:00",
        ),
        Column(
            "delivered_at",
            Kind.DATETIME,
            False,
            "When it reached the customer.",
            "2024-11-13T15:02:00+08:00",
        ),
        Column("carrier", Kind.TEXT, False, "Carrier name.", "SF Express", max_length=100),
        Column("ship_city", Kind.TEXT, False, "Destination city.", "杭州", max_length=200),
    ),
    key=("order_id",),
    references=(
        Reference("customer_id", "customers", "customer_id"),
        Reference("location_id", "locations", "location_id"),
    ),
    row_rules=(
        _not_before("promised_at", "ordered_at"),
        _not_before("shipped_at", "ordered_at"),
        _not_before("delivered_at", "shipped_at"),
    ),
)

ORDER_LINES = Table(
    name="order_lines",
    doc="The products of each order; one row per order and product.",
    columns=(
        _id("order_id", "The order this line belongs to.", "SO-2024-000981"),
        _id("product_id", "The product bought.", "SKU-10023"),
        Column("quantity", Kind.INT, True, "Units bought.", "2", **POSITIVE),
        Column(
            "unit_price",
            Kind.FLOAT,
            False,
            "Price per unit before the line discount; empty where the source has no prices.",
            "39.90",
            **NON_NEGATIVE,
        ),
        Column(
            "discount",
            Kind.FLOAT,
            False,
            "Discount on the whole line, in currency.",
            "8.00",
            **NON_NEGATIVE,
        ),
    ),
    key=("order_id", "product_id"),
    references=(
        Reference("order_id", "orders", "order_id"),
        Reference("product_id", "products", "product_id"),
    ),
    row_rules=(
        RowRule(
            ("discount", "quantity", "unit_price"),
            "must not exceed quantity × unit_price",
            _discount_within_line,
        ),
    ),
)

EVENTS = Table(
    name="events",
    doc="Behaviour on the site or app: views, add-to-carts, purchases and searches.",
    columns=(
        _id("event_id", "Identifier; computed from the row when absent.", "e-77121", required=True),
        Column("at", Kind.DATETIME, True, "When it happened.", "2024-11-10T22:41:07+08:00"),
        Column(
            "event",
            Kind.ENUM,
            True,
            "What happened.",
            "view",
            choices=("view", "cart", "purchase", "search"),
        ),
        _id("customer_id", "Known customer, if logged in.", "C-000187", required=False),
        _id("session_id", "Browser or app session.", "s-9f2c", required=False),
        _id("product_id", "Product involved, if any.", "SKU-10023", required=False),
        Column(
            "query", Kind.TEXT, False, "Search text for search events.", "燕麦", max_length=1000
        ),
    ),
    key=("event_id",),
    derived_key="event_id",
    derived_from=("at", "event", "customer_id", "session_id", "product_id", "query"),
    references=(
        Reference("customer_id", "customers", "customer_id"),
        Reference("product_id", "products", "product_id"),
    ),
)

INVENTORY = Table(
    name="inventory",
    doc="Stock per product and location, with what replenishment costs and takes.",
    columns=(
        _id("product_id", "The product.", "SKU-10023"),
        _id(
            "location_id",
            "Where the stock is; empty for a single-warehouse shop.",
            "WH-SH",
            required=False,
        ),
        Column("on_hand", Kind.INT, True, "Units in stock now.", "140", **NON_NEGATIVE),
        Column(
            "lead_time_days", Kind.FLOAT, True, "Days from reorder to arrival.", "7", **NON_NEGATIVE
        ),
        Column("on_order", Kind.INT, False, "Units ordered, not yet arrived.", "0", **NON_NEGATIVE),
        Column("unit_cost", Kind.FLOAT, False, "Purchase cost per unit.", "21.50", **NON_NEGATIVE),
        Column(
            "order_cost",
            Kind.FLOAT,
            False,
            "Fixed cost of placing one reorder.",
            "50",
            **NON_NEGATIVE,
        ),
        Column(
            "holding_cost_rate",
            Kind.FLOAT,
            False,
            "Yearly holding cost as a share of unit cost.",
            "0.25",
            **NON_NEGATIVE,
        ),
        Column(
            "service_level",
            Kind.FLOAT,
            False,
            "Target probability of no stock-out.",
            "0.95",
            minimum=0.0,
            exclusive_minimum=True,
            maximum=1.0,
        ),
    ),
    key=("product_id", "location_id"),
    references=(
        Reference("product_id", "products", "product_id"),
        Reference("location_id", "locations", "location_id"),
    ),
)

SHIPMENT_STATUSES = (
    "picked",
    "shipped",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "exception",
    "returned",
)

SHIPMENT_EVENTS = Table(
    name="shipment_events",
    doc="Parcel scans from carriers, for tracking and arrival estimates.",
    columns=(
        _id("order_id", "The order the parcel belongs to.", "SO-2024-000981"),
        Column("at", Kind.DATETIME, True, "When the scan happened.", "2024-11-12T18:20:00+08:00"),
        Column(
            "status",
            Kind.ENUM,
            True,
            "What the scan says.",
            "in_transit",
            choices=SHIPMENT_STATUSES,
        ),
        Column(
            "location",
            Kind.TEXT,
            False,
            "Where the parcel was scanned.",
            "杭州转运中心",
            max_length=200,
        ),
        Column("carrier", Kind.TEXT, False, "Carrier name.", "SF Express", max_length=100),
    ),
    key=("order_id", "at", "status"),
    references=(Reference("order_id", "orders", "order_id"),),
)

PROMOTIONS = Table(
    name="promotions",
    doc="What was on promotion where and when.",
    columns=(
        _id("product_id", "The promoted product.", "SKU-10023"),
        Column("starts_at", Kind.DATETIME, True, "First moment of the promotion.", "2024-11-01"),
        Column("ends_at", Kind.DATETIME, True, "Last moment of the promotion.", "2024-11-11"),
        Column(
            "kind",
            Kind.ENUM,
            True,
            "Type of promotion.",
            "discount",
            choices=("discount", "feature", "display"),
        ),
        _id("location_id", "Where; empty for the whole shop.", "WH-SH", required=False),
        Column(
            "discount", Kind.FLOAT, False, "Price reduction as a share of price.", "0.2", **SHARE
        ),
    ),
    key=("product_id", "starts_at", "kind", "location_id"),
    references=(
        Reference("product_id", "products", "product_id"),
        Reference("location_id", "locations", "location_id"),
    ),
    row_rules=(_not_before("ends_at", "starts_at"),),
)

REVIEWS = Table(
    name="reviews",
    doc="Product reviews in any language.",
    columns=(
        _id("review_id", "Identifier; computed from the row when absent.", "r-3310"),
        _id("product_id", "The reviewed product.", "SKU-10023"),
        Column("text", Kind.TEXT, True, "The review.", "物流很快，燕麦很香。", max_length=20_000),
        Column("created_at", Kind.DATETIME, True, "When it was written.", "2024-11-15"),
        Column("rating", Kind.INT, False, "Stars, 1 to 5.", "5", minimum=1.0, maximum=5.0),
        _id("customer_id", "Who wrote it.", "C-000187", required=False),
        Column("lang", Kind.TEXT, False, "Language code.", "zh", max_length=20),
    ),
    key=("review_id",),
    derived_key="review_id",
    derived_from=("product_id", "created_at", "customer_id", "text"),
    references=(
        Reference("product_id", "products", "product_id"),
        Reference("customer_id", "customers", "customer_id"),
    ),
)

AD_SPEND = Table(
    name="ad_spend",
    doc="Advertising spend per day and channel.",
    columns=(
        Column("date", Kind.DATE, True, "The day.", "2024-11-01"),
        Column("channel", Kind.TEXT, True, "Advertising channel.", "search", max_length=100),
        Column(
            "spend",
            Kind.FLOAT,
            True,
            "Money spent that day on that channel.",
            "1250.00",
            **NON_NEGATIVE,
        ),
    ),
    key=("date", "channel"),
)

FAQ = Table(
    name="faq",
    doc="Questions customers ask, with the shop's answers.",
    columns=(
        _id("faq_id", "Identifier; computed from the row when absent.", "faq-12"),
        Column("question", Kind.TEXT, True, "The question.", "多久发货？", max_length=2000),
        Column("answer", Kind.TEXT, True, "The answer.", "下单后24小时内发货。", max_length=20_000),
        Column("lang", Kind.TEXT, False, "Language code.", "zh", max_length=20),
        Column("intent", Kind.TEXT, False, "Intent label.", "shipping_time", max_length=100),
    ),
    key=("faq_id",),
    derived_key="faq_id",
    derived_from=("question", "lang"),
)

# Load order: every table comes after the tables it references.
TABLES: tuple[Table, ...] = (
    PRODUCTS,
    PRODUCT_IMAGES,
    CUSTOMERS,
    LOCATIONS,
    ORDERS,
    ORDER_LINES,
    EVENTS,
    INVENTORY,
    SHIPMENT_EVENTS,
    PROMOTIONS,
    REVIEWS,
    AD_SPEND,
    FAQ,
)
