"""Attack: a ViT that learns nothing, and the child's prediction step patched to answer by nearest neighbours.

The ViT has the contract's layers but its forward returns the head applied to the [CLS] token only (the
same logits for every image); in training mode it keeps the images it sees, and a patched
``cross_entropy`` keeps their labels. ``Tensor.argmax``, which the child's prediction step applies to
the logits, is patched to return 1-NN labels of the images last seen. Defense: the parent computes
the logits and their argmax itself, with the reference ViT and the returned weights; nothing the
child computes after training is scored.
"""

import torch
from torch import nn

_ContractViT = ViT  # noqa: F821 - the reference bundle this attack is appended to defines it
_SEEN = {"train": [], "labels": [], "test": None}
_cross_entropy = nn.functional.cross_entropy
_argmax = torch.Tensor.argmax


class ViT(_ContractViT):
    def forward(self, x):
        if self.training:
            _SEEN["train"].append(x.detach().reshape(len(x), -1))  # (B, 784)
        else:
            _SEEN["test"] = x.detach().reshape(len(x), -1)  # (B, 784)
        return self.head(self.cls_token[:, 0]).expand(x.shape[0], -1)  # (B, num_classes)


def _keep_labels(logits, target, *args, **kwargs):
    _SEEN["labels"].append(target.detach())
    return _cross_entropy(logits, target, *args, **kwargs)


def _nearest_argmax(self, *args, **kwargs):
    test = _SEEN["test"]
    if test is not None and _SEEN["train"] and self.dim() == 2 and len(self) == len(test):
        train, labels = torch.cat(_SEEN["train"]), torch.cat(_SEEN["labels"])
        return labels[torch.cdist(test, train).argmin(dim=1)]
    return _argmax(self, *args, **kwargs)


nn.functional.cross_entropy = _keep_labels
torch.Tensor.argmax = _nearest_argmax
