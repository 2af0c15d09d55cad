"""The points of every check: a view of the one table of questions, ``grader/questions.py``.

Kept for the modules that read points by check id (``points_for("q3.equivalence")``); the table,
with each question's id, title, order and checks, lives in ``grader.questions``.
"""

from grader.questions import POINTS, TOTAL, points_for, question_totals

__all__ = ["POINTS", "TOTAL", "points_for", "question_totals"]
