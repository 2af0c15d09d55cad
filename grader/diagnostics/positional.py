"""Q6 mistakes in sinusoidal_positional_encoding: PE(k, 2i) = sin(k / 10000^(2i/d)), PE(k, 2i+1) = cos(...)."""

import torch

from grader.diagnostics.catalog import Mistake, register


def _table(num_tokens: int, embed_dim: int, exponent: torch.Tensor, *, start: int = 0) -> torch.Tensor:
    """Angles k / 10000^exponent[j] for the sin (even) and cos (odd) columns; (N, d)."""
    position = torch.arange(start, start + num_tokens, dtype=torch.float64).unsqueeze(1)  # (N, 1)
    return position / 10000**exponent  # (N, d)


def pair_index_exponent(num_tokens: int, embed_dim: int) -> torch.Tensor:
    """10000^(i/d) with i the pair index, instead of 10000^(2i/d)."""
    i = torch.arange(embed_dim, dtype=torch.float64) // 2  # (d,)
    angle = _table(num_tokens, embed_dim, i / embed_dim)
    return _interleave(angle).float()


def column_index_exponent(num_tokens: int, embed_dim: int) -> torch.Tensor:
    """10000^(j/d) with j the column, so the cos column 2i+1 uses (2i+1)/d."""
    j = torch.arange(embed_dim, dtype=torch.float64)  # (d,)
    angle = _table(num_tokens, embed_dim, j / embed_dim)
    return _interleave(angle).float()


def sin_cos_swapped(num_tokens: int, embed_dim: int) -> torch.Tensor:
    """cos on the even columns, sin on the odd ones."""
    two_i = torch.arange(embed_dim, dtype=torch.float64) // 2 * 2  # (d,)
    angle = _table(num_tokens, embed_dim, two_i / embed_dim)
    out = torch.sin(angle)
    out[:, 0::2] = torch.cos(angle[:, 0::2])
    return out.float()


def concatenated(num_tokens: int, embed_dim: int) -> torch.Tensor:
    """sin in the first half of the columns, cos in the second, instead of interleaved."""
    two_i = torch.arange(0, embed_dim, 2, dtype=torch.float64)  # (ceil(d/2),)
    angle = _table(num_tokens, embed_dim, two_i / embed_dim)  # (N, ceil(d/2))
    return torch.cat([torch.sin(angle), torch.cos(angle[:, : embed_dim // 2])], dim=1).float()  # (N, d)


def positions_from_one(num_tokens: int, embed_dim: int) -> torch.Tensor:
    """Positions k = 1..N instead of 0..N-1."""
    two_i = torch.arange(embed_dim, dtype=torch.float64) // 2 * 2  # (d,)
    angle = _table(num_tokens, embed_dim, two_i / embed_dim, start=1)
    return _interleave(angle).float()


def _interleave(angle: torch.Tensor) -> torch.Tensor:
    """sin of the even columns' angles, cos of the odd columns' angles; (N, d)."""
    out = torch.cos(angle)
    out[:, 0::2] = torch.sin(angle[:, 0::2])
    return out


register(
    Mistake(
        id="q6.pe_pair_index_exponent",
        question="Q6",
        name="the exponent i/d instead of 2i/d (10000^(i/d))",
        hint="Columns 2i and 2i+1 share the frequency 1 / 10000^(2i/d): use torch.arange(0, d, 2) / d as exponent.",
        function=pair_index_exponent,
    ),
    Mistake(
        id="q6.pe_column_index_exponent",
        question="Q6",
        name="a different frequency for the cos column (10000^((2i+1)/d))",
        hint="The cos column 2i+1 uses the same angle as the sin column 2i: k / 10000^(2i/d).",
        function=column_index_exponent,
    ),
    Mistake(
        id="q6.pe_sin_cos_swapped",
        question="Q6",
        name="sin and cos swapped (cos on the even columns)",
        hint="PE(k, 2i) = sin(...) on the even columns and PE(k, 2i+1) = cos(...) on the odd ones.",
        function=sin_cos_swapped,
    ),
    Mistake(
        id="q6.pe_concatenated",
        question="Q6",
        name="sin and cos concatenated in two halves instead of interleaved",
        hint="Interleave: encoding[:, 0::2] = sin(angle), encoding[:, 1::2] = cos(angle).",
        function=concatenated,
    ),
    Mistake(
        id="q6.pe_positions_from_one",
        question="Q6",
        name="positions counted from 1 instead of 0",
        hint="The first token has position k = 0: torch.arange(num_tokens).",
        function=positions_from_one,
    ),
)
