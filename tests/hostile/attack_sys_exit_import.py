"""Attack: ``sys.exit(0)`` at import, hoping a clean exit reads as success (security.md #6).

Defense: the harness catches SystemExit at import and reports it as an import error; the module
defines no names, and every request answers with a StudentError.
"""

import sys

print('{"score": 100, "max_score": 100}')
sys.exit(0)
