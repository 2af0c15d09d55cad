"""Shared constants and builders of the intake tests (imported by name: this folder is on sys.path)."""

import io
import zipfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "submissions"

MODULE = """\
import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, in_features, hidden_features):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)

    def forward(self, x):
        return self.fc1(x)
"""


def zip_bytes(members: dict[str, bytes | str], *, infos: list[zipfile.ZipInfo] | None = None) -> bytes:
    """A deflated zip of ``members`` (name -> content), plus raw ``infos`` each written with a short content."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        for info in infos or []:
            archive.writestr(info, b"x = 1\n")
    return buffer.getvalue()
