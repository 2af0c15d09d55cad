"""The grader's side of the student kit: the fixtures recorded from the reference, and the wheel.

``python -m grader.student_kit build OUT_DIR`` writes the wheel the service hands to students;
``python -m grader.student_kit fixtures PATH`` only the fixtures (e.g. into ``vitgrade_student/data``
to use the kit from a checkout). See docs/students.md and docs/instructors.md.
"""

from vitgrade_student import __version__

DIST_NAME = "vitgrade_student"


def wheel_name(version: str = __version__) -> str:
    """The wheel's file name, e.g. ``vitgrade_student-0.1.0-py3-none-any.whl`` (pure Python, any platform)."""
    return f"{DIST_NAME}-{version}-py3-none-any.whl"
