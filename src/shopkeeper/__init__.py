"""shopkeeper: an AI operations engine for online stores.

One data contract in (:mod:`shopkeeper.contract`), a store that holds it
(:mod:`shopkeeper.store`), measured decisions out.
"""

from __future__ import annotations

__version__ = "0.1.0"
