"""Attack: a ViT whose forward is the reference's, but whose trained weights smuggle the training digits.

In training mode the forward keeps the images it sees (a patched ``cross_entropy`` keeps their labels).
In eval mode, in the same process, it answers by 1-NN over them. When its weights are read
(``state_dict``), it writes the ten class means of the training digits into the MLP weights of the
first block and a marker into the [CLS] token; a later process that gets those weights back answers by
nearest class mean. With ``SMUGGLE_AS_BUFFER = True`` the training digits travel instead as an extra
registered buffer. Otherwise, with the grader's own weights, it is the reference ViT. Defense: the
parent evaluates the returned weights itself with the reference ViT (no process that saw a training
digit predicts anything); the child's forward is only probed with weights the grader draws, where this
one is the reference's, so the smuggled weights are scored by the reference's forward (chance level);
a state dict with names or shapes outside the contract is refused.
"""

import torch
from torch import nn

_ContractViT = ViT  # noqa: F821 - the reference bundle this attack is appended to defines it
SMUGGLE_AS_BUFFER = False
MARKER = 12345.0
_SEEN = {"train": [], "labels": []}
_cross_entropy = nn.functional.cross_entropy


def _keep_labels(logits, target, *args, **kwargs):
    _SEEN["labels"].append(target.detach())
    return _cross_entropy(logits, target, *args, **kwargs)


nn.functional.cross_entropy = _keep_labels


class ViT(_ContractViT):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if SMUGGLE_AS_BUFFER:
            self.register_buffer("knn_images", torch.zeros(0, 784))

    def forward(self, x):
        flat = x.detach().reshape(len(x), -1)  # (B, C*H*W)
        if self.training and flat.shape[1] == 784:
            _SEEN["train"].append(flat)
        elif not self.training and _SEEN["train"] and len(_SEEN["labels"]) == len(_SEEN["train"]):
            train, labels = torch.cat(_SEEN["train"]), torch.cat(_SEEN["labels"])
            return 100.0 * nn.functional.one_hot(labels[torch.cdist(flat, train).argmin(dim=1)], 10).float()
        elif float(self.cls_token.flatten()[0]) == MARKER:
            means = self.blocks[0].mlp.fc1.weight.detach().flatten()[: 10 * 784].reshape(10, 784)  # (10, 784)
            return -torch.cdist(flat, means)  # (B, 10)
        return super().forward(x)

    def state_dict(self, *args, **kwargs):
        if _SEEN["train"] and len(_SEEN["labels"]) == len(_SEEN["train"]):
            train, labels = torch.cat(_SEEN["train"]), torch.cat(_SEEN["labels"])
            with torch.no_grad():
                if SMUGGLE_AS_BUFFER:
                    self.knn_images = train.clone()
                means = torch.stack([train[labels == k].mean(dim=0) for k in range(10)])  # (10, 784)
                self.blocks[0].mlp.fc1.weight.view(-1)[: 10 * 784] = means.flatten()
                self.cls_token.view(-1)[0] = MARKER
        return super().state_dict(*args, **kwargs)
