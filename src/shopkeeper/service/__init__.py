"""The service: REST API and dashboard in one FastAPI process (``shopkeeper serve``)."""

from shopkeeper.service.app import API_PREFIX, ServiceSettings, create_app, serve

__all__ = ["API_PREFIX", "ServiceSettings", "create_app", "serve"]
