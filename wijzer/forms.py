"""Form errors in the shape the error summary and the fields need."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field


class FieldError(BaseModel):
    field: str
    message: str


class FormErrors(BaseModel):
    """Errors in form order; the summary links each message to its field (id ``veld-NAME``)."""

    items: list[FieldError] = Field(default_factory=list)

    def add(self, field: str, message: str) -> None:
        self.items.append(FieldError(field=field, message=message))

    def for_field(self, field: str) -> str | None:
        for item in self.items:
            if item.field == field:
                return item.message
        return None

    def __bool__(self) -> bool:
        return bool(self.items)


# The largest value every database integer column holds: ids, versions and counts are
# INTEGER, 32 bits on PostgreSQL (SQLite takes 64). Ids and numbers from people are
# bounded by it, so no query overflows (2**31 in a path was a 500 on PostgreSQL).
DB_INT_MAX = 2**31 - 1
DB_INT_MIN = -(2**31)


# Every whole number up to this is exact as a JSON float; the field's own bounds
# refuse what is too large for it.
FLOAT_EXACT = 2**53


def json_whole_number(value: object) -> object:
    """For a JSON integer field (checked strictly after this): `5.0` is the integer 5
    in JSON, as its schema says; `true`, `"5"` and `5.5` stay refused."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= FLOAT_EXACT:
        return int(value)
    return value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def json_iso_date(value: object) -> object:
    """For a JSON date field: only the text YYYY-MM-DD (checked as a date after this).
    Pydantic alone also takes a number or a numeric text as a Unix time, so "-0" was
    stored as 1 January 1970."""
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("not an ISO date")


# A date in an API body: the schema says format date, and only that is taken.
IsoDate = Annotated[dt.date, BeforeValidator(json_iso_date)]


# No text field may hold a NUL character (`wijzer.limits` refuses it with 400 before any
# route runs); the API schema says so with this pattern on every free text.
NO_NUL = r"^[^\x00]*$"
# No field needs more digits than this; a longer text is refused before int() sees it
# (Python refuses ints over 4300 digits with an English ValueError).
MAX_DIGITS = 19
# ASCII digits only: str.isdigit() and int() also accept "²", "٣" and full-width digits.
_PLAIN = re.compile(r"[0-9]{1,19}")
# Dutch thousands separators in groups of three: 50.000 or 1.000.000.
_GROUPED = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3}){1,6}")


def whole_number_message(lo: int, hi: int) -> str:
    return f"Vul een heel getal in tussen {lo} en {hi}."


def parse_int(value: str | None, lo: int, hi: int, *, thousands: bool = False) -> int | None:
    """The whole number typed in `value` if it lies in [lo, hi], else None.

    Spaces around the number are allowed; signs, decimals and non-ASCII digits are not.
    With `thousands`, dots between groups of three digits are allowed (50.000)."""
    if value is None:
        return None
    text = value.strip()
    if len(text) > MAX_DIGITS + 6:
        return None
    if _PLAIN.fullmatch(text):
        n = int(text)
    elif thousands and _GROUPED.fullmatch(text):
        n = int(text.replace(".", ""))
    else:
        return None
    return n if lo <= n <= hi else None


def read_int(
    errors: FormErrors,
    field: str,
    value: str | None,
    lo: int,
    hi: int,
    *,
    message: str | None = None,
    thousands: bool = False,
) -> int | None:
    """parse_int that adds the field's message (or the standard one) to `errors`."""
    n = parse_int(value, lo, hi, thousands=thousands)
    if n is None:
        errors.add(field, message or whole_number_message(lo, hi))
    return n


def has_nul(text: str) -> bool:
    """A NUL character: no text field may hold one (PostgreSQL refuses it in text)."""
    return "\x00" in text


# A decimal as people type it (0,5 or 0.5) or as a JSON client writes it (1e-05).
_DECIMAL = re.compile(r"[0-9]{1,15}(?:[.,][0-9]{1,15})?(?:[eE][-+]?[0-9]{1,3})?")


def parse_decimal(value: str | None, lo: float, hi: float) -> float | None:
    """The number typed in `value` if it lies in [lo, hi], else None (ASCII digits only;
    never NaN or infinity)."""
    if value is None:
        return None
    text = value.strip()
    if len(text) > 40 or not _DECIMAL.fullmatch(text):
        return None
    n = float(text.replace(",", "."))
    return n if lo <= n <= hi else None
