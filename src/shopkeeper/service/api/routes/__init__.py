"""One module per capability, each exposing ``router``; ``ROUTERS`` is what the app mounts."""

from shopkeeper.service.api.routes import (
    audit,
    basket,
    customer_analytics,
    customers,
    decide,
    delivery,
    events,
    figures,
    forecast,
    health,
    inventory,
    jobs,
    keys,
    mmm,
    orders,
    pricing,
    products,
    recommend,
)

ROUTERS = [
    health.router,
    products.router,
    # Before customers: its /customers/{customer_id} would take /customers/segments.
    customer_analytics.router,
    customers.router,
    orders.router,
    delivery.router,
    events.router,
    figures.router,
    recommend.router,
    basket.router,
    mmm.router,
    forecast.router,
    inventory.router,
    decide.router,
    pricing.router,
    jobs.router,
    audit.router,
    keys.router,
]
