"""Attack: unbounded output on stdout and stderr (security.md #14).

Defense: the parent drains the child's output on a thread into a capped buffer and marks the log
as truncated; the rest is dropped, never stored.
"""

import sys

_LINE = "x" * 1000
for _ in range(20000):  # 20 MB
    print(_LINE)
    print(_LINE, file=sys.stderr)
