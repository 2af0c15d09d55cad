"""Attack: print a fake report and write forged "ok" frames straight into the pipe descriptors (security.md #5).

Defense: stdout is only a capped log; the report is built by the parent. Forged frames carry the
wrong request nonce, so the parent treats them as a protocol violation and kills the child
(the nonce lives in harness memory: a speed bump, not a wall; a forged frame is only ever data).
"""

import json
import os
import struct

from torch import nn

FAKE = {"score": 100, "max_score": 100, "gradable": True, "succeeded": True, "checks": []}
print(json.dumps(FAKE))


def _forge_frame() -> bytes:
    header = json.dumps({"id": "0" * 32, "ok": True, "values": FAKE}).encode()
    return struct.pack(">I", len(header)) + header + struct.pack(">Q", 0)


class ForgingAttention(nn.Module):
    def __init__(self, embed_dim: int, num_heads: int):
        super().__init__()
        self.proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x):
        for fd in range(3, 64):
            try:
                os.write(fd, _forge_frame())
            except OSError:
                pass
        return self.proj(x)
