"""Attack: an infinite loop at import (security.md #10).

Defense: the start has its own wall-clock limit; the child is killed and the sandbox reports an
import error instead of hanging the grader.
"""

while True:
    pass
