"""One module per capability, each exposing ``router``; ``ROUTERS`` is what the app mounts."""

from shopkeeper.service.api.routes import (
    customers,
    events,
    figures,
    health,
    jobs,
    keys,
    orders,
    products,
    recommend,
)

ROUTERS = [
    health.router,
    products.router,
    customers.router,
    orders.router,
    events.router,
    figures.router,
    recommend.router,
    jobs.router,
    keys.router,
]
