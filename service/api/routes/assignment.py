"""The assignment: questions, points and public checks, from the grader's registry."""

from fastapi import APIRouter

from service.api.deps import SettingsDep
from service.assignment import describe
from service.schemas import AssignmentPublic

router = APIRouter(tags=["assignment"])


@router.get("/assignment", response_model=AssignmentPublic)
def get_assignment(settings: SettingsDep) -> AssignmentPublic:
    """Questions with their points and public checks (hidden checks count only in the points)."""
    return describe(settings)
