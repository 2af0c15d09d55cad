"""The from-scratch rule in one place an instructor can edit: what Q1-Q6 may not call, and what it costs.

Q1-Q6 are written from linear layers, convolutions and tensor ops. A question whose own code (its
contract class or function, and the module-level helpers that reaches) uses one of the library
shortcuts below earns at most ``SHARE_WHEN_FORBIDDEN`` of each of its ``CAPPED_CATEGORIES`` checks,
besides failing ``static.from_scratch``. Only the Q8 names in ``ALLOWED_IN`` may use them freely.
See docs/checks.md.
"""

# Share of an equivalence or property check's points a question keeps when its own code uses a shortcut.
# 0.0: none (the lab's rule); 1.0: the rule costs only the static.from_scratch check.
SHARE_WHEN_FORBIDDEN = 0.0

# The check categories the share caps (shape checks and the static check itself are left as they are).
CAPPED_CATEGORIES = ("equivalence", "property")

# Dotted paths: the path itself and anything under it (a class, its methods).
FORBIDDEN_PATHS = (
    "torch.nn.MultiheadAttention",
    "torch.nn.Transformer",
    "torch.nn.TransformerEncoder",
    "torch.nn.TransformerEncoderLayer",
    "torch.nn.TransformerDecoder",
    "torch.nn.TransformerDecoderLayer",
    "torch.nn.functional.scaled_dot_product_attention",
    "torch.nn.functional.multi_head_attention_forward",
    "torch._C._nn.scaled_dot_product_attention",
    "torch.ops.aten._scaled_dot_product_attention",
)

# Names forbidden wherever they are reached from (torch.nn.modules.activation.MultiheadAttention,
# getattr(F, "scaled_dot_product_attention"), vars(nn)["TransformerEncoderLayer"], ...).
FORBIDDEN_NAMES = frozenset(
    {
        "MultiheadAttention",
        "TransformerEncoder",
        "TransformerEncoderLayer",
        "TransformerDecoder",
        "TransformerDecoderLayer",
        "scaled_dot_product_attention",
        "_scaled_dot_product_attention",
        "multi_head_attention_forward",
    }
)

# Whole libraries: anything imported from them.
FORBIDDEN_MODULES = ("timm",)

# Module types that, found inside a Q1-Q6 module built in the sandbox, are a shortcut too (any class in
# the instance's MRO, so a subclass counts): prefixes of ``module.qualname``.
FORBIDDEN_MODULE_TYPES = (
    "torch.nn.modules.activation.MultiheadAttention",
    "torch.nn.modules.transformer.",
    "timm.",
)

# Definitions that may use every shortcut (Q8 adapts timm's ViT-S).
ALLOWED_IN = ("vit_small_for_mnist",)
