"""Who is signed in, for the web layer: the data layer's `Principal` (who, which
role, for which organisation, region or provider) and the `Role`s.

Every use case takes the principal as a parameter; the role checks on it stay in
the data layer (`providers.store.access`)."""

from __future__ import annotations

from providers.store.access import Principal as Principal
from providers.store.models import Role as Role
