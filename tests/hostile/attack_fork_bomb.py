"""Attack: a fork bomb (security.md #7).

Defense: the sandbox uid's RLIMIT_NPROC and the cgroup's pids.max bound the number of processes;
the wall-clock limit kills the request, and close() kills the cgroup and every process of the uid.
"""

import os


def bomb():
    while True:
        try:
            os.fork()
        except OSError:
            pass
