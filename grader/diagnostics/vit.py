"""Q6 mistakes in the ViT: where the [CLS] token goes and is read, the positional embedding, the final norm."""

import torch

from grader.diagnostics.catalog import Mistake, register
from reference.vit import ViT


class ClsLastReadLast(ViT):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)  # (B, N, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        x = torch.cat([x, cls], dim=1) + self.pos_embed  # (B, N + 1, D), [CLS] last
        return self.head(self.norm(self.blocks(x))[:, -1])  # (B, num_classes)


class ClsLastReadFirst(ViT):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)  # (B, N, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        x = torch.cat([x, cls], dim=1) + self.pos_embed  # (B, N + 1, D), [CLS] last
        return self.head(self.norm(self.blocks(x))[:, 0])  # (B, num_classes), reads a patch


class MeanPooling(ViT):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)  # (B, N, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        x = torch.cat([cls, x], dim=1) + self.pos_embed  # (B, N + 1, D)
        return self.head(self.norm(self.blocks(x)).mean(dim=1))  # (B, num_classes)


class MeanPoolingPatches(ViT):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)  # (B, N, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        x = torch.cat([cls, x], dim=1) + self.pos_embed  # (B, N + 1, D)
        return self.head(self.norm(self.blocks(x))[:, 1:].mean(dim=1))  # (B, num_classes)


class LastToken(ViT):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)  # (B, N, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        x = torch.cat([cls, x], dim=1) + self.pos_embed  # (B, N + 1, D)
        return self.head(self.norm(self.blocks(x))[:, -1])  # (B, num_classes), the last patch


class NoPositionalEmbedding(ViT):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)  # (B, N, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        x = torch.cat([cls, x], dim=1)  # (B, N + 1, D), pos_embed never added
        return self.head(self.norm(self.blocks(x))[:, 0])  # (B, num_classes)


class PositionsOnPatchesOnly(ViT):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x) + self.pos_embed[:, 1:]  # (B, N, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        x = torch.cat([cls, x], dim=1)  # (B, N + 1, D), [CLS] without pos_embed[0]
        return self.head(self.norm(self.blocks(x))[:, 0])  # (B, num_classes)


class PositionsOnPatchesFirstRows(ViT):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)  # (B, N, D)
        x = x + self.pos_embed[:, : x.shape[1]]  # (B, N, D): the first N of the N + 1 positions
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        x = torch.cat([cls, x], dim=1)  # (B, N + 1, D), [CLS] without a position
        return self.head(self.norm(self.blocks(x))[:, 0])  # (B, num_classes)


class Probabilities(ViT):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x).softmax(dim=-1)  # (B, num_classes) probabilities, not logits


class NoFinalNorm(ViT):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)  # (B, N, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)  # (B, 1, D)
        x = torch.cat([cls, x], dim=1) + self.pos_embed  # (B, N + 1, D)
        return self.head(self.blocks(x)[:, 0])  # (B, num_classes), self.norm skipped


CLS_HINT = (
    "Prepend the [CLS] token: x = torch.cat([cls, x], dim=1) + pos_embed, so it sits at index 0, "
    "and classify from it after the final norm: self.head(self.norm(x)[:, 0])."
)

register(
    Mistake(
        id="q6.cls_last",
        question="Q6",
        name="the [CLS] token appended last (and read from the last position)",
        hint=CLS_HINT,
        target=ViT,
        variant=ClsLastReadLast,
    ),
    Mistake(
        id="q6.cls_last_read_first",
        question="Q6",
        name="the [CLS] token appended last while the head reads index 0 (a patch token)",
        hint=CLS_HINT,
        target=ViT,
        variant=ClsLastReadFirst,
    ),
    Mistake(
        id="q6.mean_pooling",
        question="Q6",
        name="mean pooling over all tokens instead of the [CLS] token",
        hint="The head reads only the [CLS] token: self.head(self.norm(x)[:, 0]), not x.mean(dim=1).",
        target=ViT,
        variant=MeanPooling,
    ),
    Mistake(
        id="q6.mean_pooling_patches",
        question="Q6",
        name="mean pooling over the patch tokens instead of the [CLS] token",
        hint="The head reads only the [CLS] token: self.head(self.norm(x)[:, 0]), not x[:, 1:].mean(dim=1).",
        target=ViT,
        variant=MeanPoolingPatches,
    ),
    Mistake(
        id="q6.last_token",
        question="Q6",
        name="classification from the last token instead of the [CLS] token at index 0",
        hint="The [CLS] token is at index 0: self.head(self.norm(x)[:, 0]), not x[:, -1].",
        target=ViT,
        variant=LastToken,
    ),
    Mistake(
        id="q6.no_pos_embed",
        question="Q6",
        name="the positional embedding never added",
        hint="Add it after prepending [CLS]: x = torch.cat([cls, x], dim=1) + self.pos_embed.",
        target=ViT,
        variant=NoPositionalEmbedding,
    ),
    Mistake(
        id="q6.pos_embed_patches_only",
        question="Q6",
        name="the positional embedding added to the patches only (not to [CLS])",
        hint="pos_embed has N + 1 rows: add all of it after prepending [CLS], x = torch.cat([cls, x], 1) + pos_embed.",
        target=ViT,
        variant=PositionsOnPatchesOnly,
    ),
    Mistake(
        id="q6.pos_embed_patches_first_rows",
        question="Q6",
        name="the [CLS] token without a positional embedding (the first N positions added to the patches)",
        hint=(
            "pos_embed has N + 1 rows, row 0 for [CLS]: prepend [CLS] first, then add all of it, "
            "x = torch.cat([cls, x], dim=1) + self.pos_embed."
        ),
        target=ViT,
        variant=PositionsOnPatchesFirstRows,
    ),
    Mistake(
        id="q6.probabilities",
        question="Q6",
        name="softmax probabilities returned instead of logits",
        hint=(
            "Return the head's logits, self.head(x[:, 0]); nn.CrossEntropyLoss applies log-softmax itself, "
            "and a softmax inside forward squashes the gradients."
        ),
        target=ViT,
        variant=Probabilities,
    ),
    Mistake(
        id="q6.no_final_norm",
        question="Q6",
        name="no final LayerNorm before the head",
        hint="Normalise after the blocks: self.head(self.norm(x)[:, 0]).",
        target=ViT,
        variant=NoFinalNorm,
    ),
)
