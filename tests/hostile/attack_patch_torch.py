"""Attack: patch torch's comparisons and the harness so that every check "passes" (security.md #2).

``torch.allclose``/``torch.equal``/``Tensor.__eq__`` lie, and the harness's forward op is replaced by
one that returns zeros. Defense: comparisons happen only in the parent process, which this code
never touches; a patched harness can at most send wrong numbers, which the parent then fails.
"""

import sys

import torch

torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None
torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)

for _harness in [m for m in list(sys.modules.values()) if hasattr(m, "Harness") and hasattr(m, "serve")]:

    def _forward(self, args, tensors):
        return {"num_params": 0, "state_shapes": {}, "attributes": {}, "attribute_errors": {}}, {
            "output": torch.zeros_like(tensors["input"])
        }

    _harness.Harness.op_forward = _forward
    print("patched the harness")
