"""Attack: read secrets from the environment, the parent's ``/proc/<pid>/environ`` and root's files.

Defense: the child gets a minimal environment; the parent's /proc entries belong to root and the
child runs as an unprivileged uid with no_new_privs.
"""

import os

print("ENV", dict(os.environ))
for _path in ("/proc/1/environ", f"/proc/{os.getppid()}/environ", "/root/.bash_history", "/etc/shadow"):
    try:
        print("FOUND", _path, open(_path, "rb").read()[:2000])
    except OSError as _error:
        print("denied", _path, type(_error).__name__)
