"""Who the caller is (the page shows it after a token is pasted)."""

from fastapi import APIRouter

from service.api.deps import CurrentUser
from service.schemas import UserPublic

router = APIRouter(tags=["users"])


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> UserPublic:
    """The caller's name and role."""
    return UserPublic(name=user.name, role=user.role)
