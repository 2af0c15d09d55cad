"""vitgrade's student kit: run the lab's public checks where you work, and submit from there.

    from vitgrade_student import check, check_all, submit
    check("q3")         # the public checks of Q3 on the classes defined in this notebook
    check_all()         # Q1-Q6
    submit()            # upload this notebook (token from $VITGRADE_TOKEN or ~/.vitgrade/token)

The checks compare your code with the reference solution's outputs precomputed at inputs of the
kit's own (never the ones the service scores with); the reference itself never ships.
"""

from vitgrade_student.checks import check, check_all
from vitgrade_student.results import LocalResult, Results
from vitgrade_student.submit import submit

__version__ = "0.1.0"
__all__ = ["LocalResult", "Results", "__version__", "check", "check_all", "submit"]
