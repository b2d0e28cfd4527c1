"""A calendar built from the shipped national data, for domain tests (no database)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.adapters.calendar_data import national_settings
from chalicelib.domain.calendar import WorkingCalendar

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CALENDAR = WorkingCalendar(national_settings())


def vn(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=VN)
