"""Attack: make the parent unpickle a payload that runs a command (security.md #4).

The harness's tensor serialiser is replaced by ``pickle.dumps`` of an object whose ``__reduce__``
runs ``touch``. Defense: the parent never unpickles; the payload goes to safetensors' parser, which
refuses it (StudentError bad_output); no command runs.
"""

import gc
import os
import pickle

import torch


class Payload:
    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def smuggle(path: str) -> torch.Tensor:
    for obj in gc.get_objects():
        if type(obj).__name__ == "Harness":
            obj._save = lambda tensors: pickle.dumps(Payload(path))
    return torch.ones(1)
