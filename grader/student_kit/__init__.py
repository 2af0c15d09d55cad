"""The grader's side of the student kit: the fixtures recorded from the reference, and the wheel.

``python -m grader.student_kit build OUT_DIR`` writes the wheel the service hands to students;
``python -m grader.student_kit fixtures PATH`` only the fixtures (e.g. into ``vitgrade_student/data``
to use the kit from a checkout). See docs/students.md and docs/instructors.md.
"""
