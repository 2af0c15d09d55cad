"""The points table of the lab: every check id and what it is worth, in one place.

The registry reads each check's points from here (``points_for("q3.equivalence")``) so that a TA changes a
weight in one line and the totals below stay visible. The lab is out of 100: Q1-Q6 (code) 50,
Q7 (MNIST accuracy) 15, Q8 (timm) 10, written answers 25.
"""

POINTS: dict[str, float] = {
    # Q1 patch embedding (6)
    "q1.shape": 1,
    "q1.equivalence": 2.5,
    "q1.property": 2,
    "q1.contract": 0.5,  # the parameter set; a bias-less conv is graded on its maths above
    # Q2 MLP (4)
    "q2.shape": 1,
    "q2.equivalence": 1.5,
    "q2.property": 1,
    "q2.contract": 0.5,
    # Q3 single-head self-attention (8)
    "q3.shape": 1,
    "q3.equivalence": 3.5,
    "q3.property": 3,
    "q3.contract": 0.5,
    # Q4 multi-head self-attention (10), with the from-scratch rule for Q1-Q6
    "q4.shape": 1,
    "q4.equivalence": 2.5,
    "q4.property": 2,
    "q4.contract": 0.5,
    "q4.extra": 2,  # hidden: an unseen configuration
    "static.from_scratch": 2,
    # Q5 transformer block (8)
    "q5.shape": 1,
    "q5.equivalence": 2.5,  # the block's wiring, with trusted attention and MLP
    "q5.end_to_end": 1,  # the student's own attention and MLP inside the block
    "q5.property": 3,
    "q5.contract": 0.5,
    # Q6 ViT (14)
    "q6.sinusoidal": 2,
    "q6.shape": 1,
    "q6.equivalence": 3,  # [CLS], positions, norm and head, with trusted patch embedding and blocks
    "q6.end_to_end": 1,  # the student's own patch embedding and blocks inside the ViT
    "q6.property": 3,
    "q6.parameters": 1.5,  # the parameter count: a sinusoidal table must be a buffer
    "q6.contract": 0.5,
    "q6.extra": 2,  # hidden: an unseen configuration
    # Q7 MNIST accuracy (15)
    "q7.accuracy": 15,
    # Q8 timm ViT-S (10)
    "q8.structure": 1,
    "q8.forward": 3,
    "q8.pretrained": 6,
    # written answers (25)
    "written.q3": 3,
    "written.q4": 2,
    "written.q5": 2,
    "written.q6a": 3,
    "written.q6b": 3,
    "written.q6c": 3,
    "written.q7": 4,
    "written.q8a": 3,
    "written.q8d": 2,
}

# Which question's total each check counts towards (written answers count as "written").
QUESTION_OF_STATIC = {"static.from_scratch": "Q4"}

TOTAL = 100


def points_for(check_id: str) -> float:
    """The points of ``check_id``; a check missing from the table is a grader bug, named here."""
    try:
        return POINTS[check_id]
    except KeyError:
        raise KeyError(
            f"Check {check_id!r} has no entry in grader/checks/points.py; add it there (known: {sorted(POINTS)})."
        ) from None


def question_totals() -> dict[str, float]:
    """Points per question ('Q1'..'Q8', 'written'), from the ids' prefixes."""
    totals: dict[str, float] = {}
    for check_id, value in POINTS.items():
        prefix = check_id.split(".", 1)[0]
        question = QUESTION_OF_STATIC.get(check_id) or ("written" if prefix == "written" else prefix.upper())
        totals[question] = totals.get(question, 0) + value
    return totals
