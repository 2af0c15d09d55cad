"""Attack: a double-forked ``setsid()`` grandchild that outlives the sandbox (security.md #8).

Defense: close() kills the process group, the cgroup and then every process of the sandbox uid,
and reaps what was reparented to the grader (child subreaper).
"""

import os
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        print(f"GRANDCHILD {os.getpid()}", flush=True)
        while True:
            time.sleep(1)
    os._exit(0)
os.wait()
time.sleep(0.2)
