"""Student-style variants of the reference for the engine's tests: each one deviation, written as students do.

Each constant is appended to the reference bundle (``source(...)``), so the classes it redefines replace the
reference's and every class that uses them (Q5, Q6) picks them up.
"""

from reference.bundle import bundle_submission

REFERENCE = bundle_submission()


def source(*parts: str) -> str:
    return REFERENCE + "\n\nimport math\nimport torch.nn.functional as F\n" + "\n".join(parts)


EVEN_ONLY_PE = """
def sinusoidal_positional_encoding(num_tokens, embed_dim):
    position = torch.arange(num_tokens, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, embed_dim, 2).float() * (-math.log(10000.0) / embed_dim))
    pe = torch.zeros(num_tokens, embed_dim)
    pe[:, 0::2] = torch.sin(position * div)
    pe[:, 1::2] = torch.cos(position * div)  # fails when embed_dim is odd
    return pe
"""
SQUEEZING_ATTENTION = """
class MultiHeadSelfAttention(MultiHeadSelfAttention):
    def forward(self, x):
        B, N, D = x.shape
        out = (self.attention_weights(x) @ self._split_heads(self.v(x))).squeeze()  # drops h=1 and B=1 too
        return self.proj(out.transpose(1, 2).reshape(B, N, D))
"""
BIASLESS_MLP = """
class MLP(nn.Module):
    def __init__(self, in_features, hidden_features):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features, bias=False)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, in_features, bias=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))
"""
BIASLESS_QKV = """
class MultiHeadSelfAttention(MultiHeadSelfAttention):
    def __init__(self, embed_dim, num_heads):
        super().__init__(embed_dim, num_heads)
        self.q = nn.Linear(embed_dim, embed_dim, bias=False)  # qkv_bias=False, as timm's default
        self.k = nn.Linear(embed_dim, embed_dim, bias=False)
        self.v = nn.Linear(embed_dim, embed_dim, bias=False)
"""
SCALE_BUFFER = """
class SelfAttention(nn.Module):
    def __init__(self, embed_dim):
        super().__init__()
        self.q = nn.Linear(embed_dim, embed_dim)
        self.k = nn.Linear(embed_dim, embed_dim)
        self.v = nn.Linear(embed_dim, embed_dim)
        self.proj = nn.Linear(embed_dim, embed_dim)
        self.register_buffer("scale", torch.tensor(embed_dim ** -0.5))

    def forward(self, x):
        attn = torch.softmax(self.q(x) @ self.k(x).transpose(-2, -1) * self.scale, dim=-1)
        return self.proj(attn @ self.v(x))
"""
PLAIN_NORMS = """
class TransformerBlock(TransformerBlock):
    def __init__(self, embed_dim, num_heads, mlp_ratio=4.0):
        super().__init__(embed_dim, num_heads, mlp_ratio)
        self.norm1 = nn.LayerNorm(embed_dim, elementwise_affine=False)
        self.norm2 = nn.LayerNorm(embed_dim, elementwise_affine=False)
"""
EPS_1E6 = """
class TransformerBlock(TransformerBlock):
    def __init__(self, embed_dim, num_heads, mlp_ratio=4.0):
        super().__init__(embed_dim, num_heads, mlp_ratio)
        self.norm1 = nn.LayerNorm(embed_dim, eps=1e-6)
        self.norm2 = nn.LayerNorm(embed_dim, eps=1e-6)


class ViT(ViT):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.norm = nn.LayerNorm(self.cls_token.shape[-1], eps=1e-6)
"""
TANH_GELU = """
class MLP(MLP):
    def __init__(self, in_features, hidden_features):
        super().__init__(in_features, hidden_features)
        self.act = nn.GELU(approximate="tanh")
"""
CONSTANT_VIT = """
class ViT(ViT):
    def forward(self, x):
        return self.head.bias.expand(x.shape[0], -1) + 0.0 * x.sum()
"""
CONSTANT_BLOCK = """
class TransformerBlock(TransformerBlock):
    def forward(self, x):
        return torch.zeros_like(x) + self.norm1.bias + 0.0 * x.sum()
"""
CONSTANT_ATTENTION = """
class MultiHeadSelfAttention(MultiHeadSelfAttention):
    def forward(self, x):
        return torch.zeros_like(x) + self.proj.bias + 0.0 * x.sum()
"""
UNFINISHED_ATTENTION = """
class MultiHeadSelfAttention(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        raise NotImplementedError("Q4")

    def forward(self, x):
        raise NotImplementedError("Q4")
"""
OWN_NAMES_BLOCK = """
class TransformerBlock(nn.Module):
    def __init__(self, embed_dim, num_heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(embed_dim)
        self.attention = MultiHeadSelfAttention(embed_dim, num_heads)
        self.norm2 = nn.LayerNorm(embed_dim)
        self.ffn = MLP(embed_dim, int(embed_dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.ffn(self.norm2(x))
"""
OWN_CLASS_BLOCK = """
class Attention(MultiHeadSelfAttention):
    pass


class TransformerBlock(nn.Module):
    def __init__(self, embed_dim, num_heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(embed_dim)
        self.attention = Attention(embed_dim, num_heads)
        self.norm2 = nn.LayerNorm(embed_dim)
        self.mlp = MLP(embed_dim, int(embed_dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))
"""
MODULE_LIST_VIT = """
class ViT(ViT):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.blocks = nn.ModuleList(list(self.blocks))

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])
"""
FUSED_QKV = """
class MultiHeadSelfAttention(nn.Module):
    def __init__(self, embed_dim, num_heads, qkv_bias=True):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (embed_dim // num_heads) ** -0.5
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim, bias=qkv_bias)
        self.proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # (B, h, N, d_h) each
        attn = (q @ k.transpose(-2, -1)) * self.scale
        x = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)
"""
FUSED_QKV_NO_BIAS = FUSED_QKV.replace("qkv_bias=True", "qkv_bias=False")
PER_HEAD_MODULES = """
class Head(nn.Module):
    def __init__(self, embed_dim, head_dim):
        super().__init__()
        self.query = nn.Linear(embed_dim, head_dim, bias=False)
        self.key = nn.Linear(embed_dim, head_dim, bias=False)
        self.value = nn.Linear(embed_dim, head_dim, bias=False)

    def forward(self, x):
        q, k, v = self.query(x), self.key(x), self.value(x)
        weights = F.softmax(q @ k.transpose(-2, -1) / math.sqrt(k.shape[-1]), dim=-1)
        return weights @ v


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.heads = nn.ModuleList([Head(embed_dim, embed_dim // num_heads) for _ in range(num_heads)])
        self.proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x):
        return self.proj(torch.cat([head(x) for head in self.heads], dim=-1))
"""
FUNCTIONAL_EPS_1E6 = """
class TransformerBlock(TransformerBlock):
    def forward(self, x):
        h = F.layer_norm(x, x.shape[-1:], self.norm1.weight, self.norm1.bias, eps=1e-6)
        x = x + self.attn(h)
        h = F.layer_norm(x, x.shape[-1:], self.norm2.weight, self.norm2.bias, eps=1e-6)
        return x + self.mlp(h)
"""
UNSCALED_ATTENTION = """
class MultiHeadSelfAttention(MultiHeadSelfAttention):
    def attention_weights(self, x):
        q, k = self._split_heads(self.q(x)), self._split_heads(self.k(x))
        return (q @ k.transpose(-2, -1)).softmax(dim=-1)
"""
RELU_MLP = """
class MLP(MLP):
    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))
"""
BIASLESS_HEAD = """
class ViT(ViT):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.head = nn.Linear(self.head.in_features, self.head.out_features, bias=False)
"""
IGNORED_MLP_RATIO = """
class ViT(ViT):
    def __init__(self, *args, mlp_ratio=4.0, **kwargs):
        super().__init__(*args, **kwargs)  # mlp_ratio is not passed on: the blocks keep 4.0
"""
BLOCK_IGNORING_MLP_RATIO = """
class TransformerBlock(TransformerBlock):
    def __init__(self, embed_dim, num_heads, mlp_ratio=4.0):
        super().__init__(embed_dim, num_heads)  # mlp_ratio is not passed on
"""
BATCHED_PE = """
_contract_pe = sinusoidal_positional_encoding


def sinusoidal_positional_encoding(num_tokens, embed_dim):
    return _contract_pe(num_tokens, embed_dim).unsqueeze(0)  # (1, N, D), ready to add to the tokens
"""
UNSAVED_TABLE = """
class ViT(ViT):
    def __init__(self, *args, pos_embedding="learned", **kwargs):
        super().__init__(*args, pos_embedding=pos_embedding, **kwargs)
        if pos_embedding == "sinusoidal":
            table = self.pos_embed
            del self.pos_embed
            self.register_buffer("pos_embed", table, persistent=False)
"""
TUPLE_ATTENTION = """
class MultiHeadSelfAttention(MultiHeadSelfAttention):
    def forward(self, x):
        return super().forward(x), self.attention_weights(x)  # the output and the attention maps


class TransformerBlock(TransformerBlock):
    def forward(self, x):
        out, _ = self.attn(self.norm1(x))
        x = x + out
        return x + self.mlp(self.norm2(x))
"""
