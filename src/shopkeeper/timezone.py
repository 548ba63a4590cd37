"""The shop's time zone: where its days begin and end.

The store keeps every moment in UTC; a shop's days are its own. The zone is
a store setting (``timezone`` in the store's metadata, ``shopkeeper
timezone ZONE``), written as ``UTC``, an offset (``+08:00``) or an IANA name
(``Asia/Shanghai``). The marketing mix and the demand forecasts count days in it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shopkeeper.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd


def parse_timezone(text: str) -> dt.tzinfo:
    """``UTC``, an offset (``+08:00``) or an IANA name (``Asia/Shanghai``)."""
    match = re.fullmatch(r"([+-])(\d{1,2})(?::?(\d{2}))?", text.strip())
    if match:
        sign = 1 if match.group(1) == "+" else -1
        hours, minutes = int(match.group(2)), int(match.group(3) or 0)
        if hours > 14 or minutes >= 60:
            raise ConfigError(f"timezone {text!r}: an offset runs from -14:00 to +14:00")
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        return ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"timezone {text!r} is neither an offset such as +08:00 nor a known zone name "
            "such as Asia/Shanghai"
        ) from exc


def local_days(at: pd.Series, tz: dt.tzinfo) -> pd.Series:
    """The shop's local midnight of each naive UTC moment (as the store keeps them)."""
    import pandas as pd

    stamps = pd.to_datetime(at).dt.tz_localize("UTC").dt.tz_convert(tz)
    return stamps.dt.tz_localize(None).dt.normalize()
