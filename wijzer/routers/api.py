"""The JSON API under /api/v1: each endpoint returns the context object its page renders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from wijzer.auth import Principal, Role, require_roles

router = APIRouter(prefix="/api/v1", tags=["api"])


class Me(BaseModel):
    username: str
    role: str
    organisation_id: str | None
    regions: list[str]


@router.get("/ik", response_model=Me, summary="Het account van deze sessie")
def me(user: Annotated[Principal, Depends(require_roles(*Role))]) -> Me:
    return Me(
        username=user.username,
        role=user.role.value,
        organisation_id=user.organisation_id,
        regions=list(user.regions),
    )
