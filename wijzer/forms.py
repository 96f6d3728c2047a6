"""Form errors in the shape the error summary and the fields need."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
