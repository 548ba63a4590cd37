"""The dashboard: server-rendered pages of the shop's figures, recommendations and jobs.

``router`` holds the pages (``/``, ``/login``, ``/logout``, ``/overview``,
``/products``, ``/customers``, ``/customer-value``, ``/recommendations``,
``/baskets``, ``/images``, ``/marketing``, ``/stock``, ``/pricing``,
``/data-quality``, ``/jobs``), the product photos and the Plotly script;
``STATIC_DIR`` is the folder the app serves at ``/static``. Pages need a user logged in with an API
key (kept as its key id in the signed session cookie); labels come in English
or Chinese (``?lang=en|zh``, remembered in the ``lang`` cookie).
"""

from shopkeeper.service.dashboard import (
    _basket,  # noqa: F401  (adds /baskets)
    _customers_value,  # noqa: F401  (adds /customer-value)
    _decisions,  # noqa: F401  (adds /pricing)
    _images,  # noqa: F401  (adds /images and its photos)
    _mmm,  # noqa: F401  (adds /marketing)
    _recommend,  # noqa: F401  (adds /recommendations)
    _stock,  # noqa: F401  (adds /stock)
)
from shopkeeper.service.dashboard._pages import PLOTLY_PATH, STATIC_DIR, TEMPLATE_DIR, router

__all__ = ["PLOTLY_PATH", "STATIC_DIR", "TEMPLATE_DIR", "router"]
