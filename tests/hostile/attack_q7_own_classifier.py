"""Attack: a "ViT" whose forward is a nearest-class-mean classifier kept in its contract-shaped weights.

Its layers are the contract's, so its state dict passes every name and shape check; in training mode
the forward keeps the images it sees (a patched ``cross_entropy`` keeps their labels), and when the
weights are read it writes the ten class means into the MLP weights of the first block. Its forward
always answers by nearest class mean, with any weights, so it is never the reference's function.
This is what the grader cannot rule out: code of the student's own computes the predictions from
weights the student's own code trained. Defense: such predictions come only from a fresh child that
holds the weights and the test images (no training digit, no label) and are worth at most a third
of Q7 (grader/checks/own_forward.py); every point the reference's forward cannot confirm is capped.
"""

import torch
from torch import nn

_ContractViT = ViT  # noqa: F821 - the reference bundle this attack is appended to defines it
_SEEN = {"train": [], "labels": []}
_cross_entropy = nn.functional.cross_entropy


def _keep_labels(logits, target, *args, **kwargs):
    _SEEN["labels"].append(target.detach())
    return _cross_entropy(logits, target, *args, **kwargs)


nn.functional.cross_entropy = _keep_labels


class ViT(_ContractViT):
    def forward(self, x):
        flat = x.reshape(len(x), -1)  # (B, C*H*W)
        if self.training:
            _SEEN["train"].append(flat.detach())
            return super().forward(x)  # something to train, so that the loss goes down
        means = _class_means()  # in the process that trained: straight from the digits it saw
        if means is None:  # elsewhere: from the weights
            means = self.blocks[0].mlp.fc1.weight.flatten()[: 10 * flat.shape[1]].reshape(10, -1)  # (10, C*H*W)
        return -torch.cdist(flat, means)  # (B, 10)

    def state_dict(self, *args, **kwargs):
        means = _class_means()
        if means is not None:
            with torch.no_grad():
                self.blocks[0].mlp.fc1.weight.view(-1)[: means.numel()] = means.flatten()
        return super().state_dict(*args, **kwargs)


def _class_means():
    """(10, 784) mean training digit per class, or None in a process that saw no training digit."""
    if not _SEEN["train"] or len(_SEEN["labels"]) != len(_SEEN["train"]):
        return None
    train, labels = torch.cat(_SEEN["train"]), torch.cat(_SEEN["labels"])
    return torch.stack([train[labels == k].mean(dim=0) for k in range(10)])  # (10, 784)
