"""Generate ``vit_lab.ipynb`` from ``vit.py`` (the code) and ``answers.md`` (the written questions).

The notebook is never edited by hand: ``python -m student_template.make_notebook`` writes it, and
``--check`` exits 1 when the committed notebook differs from what the generator makes. The output is
deterministic: fixed cell ids, no execution counts, no outputs, sorted keys.
"""

import argparse
import ast
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).parent
TEMPLATE = PACKAGE_DIR / "vit.py"
ANSWERS = PACKAGE_DIR / "answers.md"
NOTEBOOK = PACKAGE_DIR / "vit_lab.ipynb"

INTRO = """\
# Vision Transformer lab

You will build a Vision Transformer (ViT) from scratch in PyTorch, train it on MNIST, then adapt
timm's ViT-S, and answer written questions along the way.

**How your work is graded.** Hand in this notebook (or `vit.py`) and your answers. The grader
builds your modules with the arguments of its reference solution, loads the reference's weights into
them with `load_state_dict(strict=True)` and compares outputs, so keep every name, signature and
attribute name as given; only write the bodies that raise `NotImplementedError`.

- From the code cells the grader keeps imports, function and class definitions and simple constants
  (`EMBED_DIM = 64`); it drops everything else (training loops, prints, `%magics`, `!pip`), so it
  never reruns your training. Put code that your classes need inside them.
- Your written answers go in the markdown cells headed `## Q3`, `## Q6a`, ...: keep those headings.
  Lines starting with `>` are the questions and are ignored; an empty section counts as missing.

Run the next cell first."""

KIT_TEXT = """\
**Check your work as you go.** Install the student kit once, from your course's service
(`pip install <service address>/student-kit/vitgrade_student-0.1.0-py3-none-any.whl`; the page
`<service address>/student-kit/` prints the exact command). The check cell after each question then runs
that question's public checks here, in under a second, without training anything: the same shape,
equivalence and property checks, messages and hints as the grader's, on inputs of the kit's own. The
service's score also counts hidden configurations, Q7, Q8 and your written answers."""

CHECK_CELL = """\
# Run the public checks of {question} here (needs the student kit; the grader drops this cell).
try:
    from vitgrade_student import check
except ImportError:
    print("The student kit is not installed: see the cell at the top of the notebook.")
else:
    display(check("{check}"))"""

SUBMIT_TEXT = """\
## Submitting

Save the notebook, then run the next cell after removing the `#` signs (or run `vitgrade-submit vit_lab.ipynb`
in a terminal). It writes what the grader keeps into `vitgrade_submission/` (`vit.py` from the code cells,
`answers.md` from the `## Q..` cells), uploads both, follows the queue and shows the report here. Your token
comes from the environment variable `VITGRADE_TOKEN` or the file `~/.vitgrade/token`, and the service's address
from `VITGRADE_URL` or `~/.vitgrade/url`: never write your token in the notebook."""

SUBMIT_CELL = """\
# from vitgrade_student import submit
# submit()"""

TRAINING_CELL = """\
# Q7: train your ViT on MNIST (the grader drops this cell and trains your ViT with its own fixed recipe).
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

EPOCHS = 2
BATCH_SIZE = 128
LEARNING_RATE = 1e-3

device = "cuda" if torch.cuda.is_available() else "cpu"
to_input = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
train_set = datasets.MNIST("data", train=True, download=True, transform=to_input)
test_set = datasets.MNIST("data", train=False, download=True, transform=to_input)
train_loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True)
test_loader = DataLoader(test_set, batch_size=512)

model = ViT().to(device)
optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=0.05)
for epoch in range(EPOCHS):
    model.train()
    for images, labels in train_loader:
        loss = nn.functional.cross_entropy(model(images.to(device)), labels.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        correct = sum((model(x.to(device)).argmax(1).cpu() == y).sum().item() for x, y in test_loader)
    print(f"epoch {epoch + 1}: last loss {loss.item():.3f}, test accuracy {correct / len(test_set):.2%}")"""

TIMM_CELL = """\
# Q8a: what does the unmodified ViT-S say about an MNIST-sized batch?
vit_s = timm.create_model("vit_small_patch16_224", pretrained=False)
for channels in (1, 3):
    try:
        vit_s(torch.zeros(2, channels, 28, 28))
        print(channels, "channel(s): ran")
    except Exception as error:
        print(channels, "channel(s):", type(error).__name__, error)

# Q8b-c: your adapted model; train it as in Q7, without and with pretrained weights.
print(vit_small_for_mnist()(torch.zeros(2, 1, 28, 28)).shape)  # expected: torch.Size([2, 10])"""


@dataclass(frozen=True)
class Section:
    """One question of the lab: its text, the template's code cells, then its answer cells."""

    text: str
    code: tuple[str, ...] = ()
    extra_code: str | None = None
    answers: tuple[str, ...] = ()
    check: str | None = None  # the question whose public checks the kit runs after the code cells


SECTIONS = (
    Section(
        "## Question 1: patch embedding\n\n"
        "Split a (B, C, H, W) image into non-overlapping p x p patches and project each patch to a D-dimensional "
        "token. A `Conv2d` with kernel size = stride = p does both at once; reshape its output to (B, N, D) with "
        "N = (H / p)^2.",
        code=("PatchEmbedding",),
        check="q1",
    ),
    Section(
        "## Question 2: MLP\n\n"
        "The transformer's feed-forward network: one hidden layer with a GELU, `fc2(GELU(fc1(x)))`; the output "
        "has the input's dimension.",
        code=("MLP",),
        check="q2",
    ),
    Section(
        "## Question 3: self-attention\n\n"
        "One head: Q = X W_q, K = X W_k, V = X W_v, then softmax(Q K^T / sqrt(d)) V and a final linear "
        "projection. The softmax runs over the keys (the last axis).",
        code=("SelfAttention",),
        check="q3",
        answers=("Q3",),
    ),
    Section(
        "## Question 4: multi-head self-attention\n\n"
        "Split the D columns of Q, K and V equally among h heads (d_h = D / h), attend in each head with "
        "sqrt(d_h), concatenate the heads and project. Use reshapes and transposes, not a loop over heads.",
        code=("MultiHeadSelfAttention",),
        check="q4",
        answers=("Q4",),
    ),
    Section(
        "## Question 5: transformer block\n\nA pre-norm block: x = x + MHSA(LN_1(x)), then x = x + MLP(LN_2(x)).",
        code=("TransformerBlock",),
        check="q5",
        answers=("Q5",),
    ),
    Section(
        "## Question 6: the Vision Transformer\n\n"
        "Patch-embed the image, put a learned [CLS] token at index 0, add the positional embedding (learned, or "
        "the sinusoidal PE(k, 2i) = sin(k / 10000^(2i/d)), PE(k, 2i+1) = cos(k / 10000^(2i/d))), run the blocks, "
        "apply the final LayerNorm and classify from the [CLS] token.",
        code=("sinusoidal_positional_encoding", "ViT"),
        check="q6",
        answers=("Q6a", "Q6b", "Q6c"),
    ),
    Section(
        "## Question 7: experiments on MNIST\n\n"
        "Train your ViT on MNIST, try a few hyperparameters (embed_dim, patch_size, nb_blocks, learning rate, "
        "epochs) and report what you found. The cell below is a starting point.",
        extra_code=TRAINING_CELL,
        answers=("Q7",),
    ),
    Section(
        "## Question 8: timm's ViT-S on MNIST\n\n"
        "timm's `vit_small_patch16_224` expects 224 x 224 RGB images. See what it does with MNIST, then build "
        "`vit_small_for_mnist` so that timm adapts the model (and its pretrained weights) to 28 x 28 grey digits.",
        code=("vit_small_for_mnist",),
        extra_code=TIMM_CELL,
        answers=("Q8a", "Q8b", "Q8c", "Q8d"),
    ),
)


def template_segments(source: str) -> tuple[str, dict[str, str]]:
    """The template's import block and the source of each top-level function and class, by name."""
    lines = source.splitlines()
    tree = ast.parse(source)
    imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    import_block = "\n".join(lines[imports[0].lineno - 1 : imports[-1].end_lineno])
    definitions = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
            definitions[node.name] = "\n".join(lines[start - 1 : node.end_lineno])
    return import_block, definitions


def answer_cells(markdown: str) -> dict[str, str]:
    """Each ``## Qx`` section of answers.md (heading and quoted question), by key."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in markdown.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        if current is not None:
            current.append(line)
    return {key: "\n".join(body).strip() + "\n\n" for key, body in sections.items()}


def build_notebook(template: str, answers_md: str) -> NotebookNode:
    """The lab notebook: intro, imports, then per question its text, code cells and answer cells."""
    import_block, definitions = template_segments(template)
    answers = answer_cells(answers_md)
    cells: list[tuple[str, str]] = [("markdown", INTRO), ("code", import_block), ("markdown", KIT_TEXT)]
    for section in SECTIONS:
        cells.append(("markdown", section.text))
        cells.extend(("code", definitions[name]) for name in section.code)
        if section.check:
            question = section.check.upper()
            cells.append(("code", CHECK_CELL.format(question=question, check=section.check)))
        if section.extra_code:
            cells.append(("code", section.extra_code))
        cells.extend(("markdown", answers[key]) for key in section.answers)
    cells += [("markdown", SUBMIT_TEXT), ("code", SUBMIT_CELL)]
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for index, (kind, source) in enumerate(cells):
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        notebook.cells.append(make(source=source, id=f"cell-{index:02d}"))
    nbformat.validate(notebook)
    return notebook


def render() -> str:
    """The notebook's text exactly as committed."""
    notebook = build_notebook(TEMPLATE.read_text(), ANSWERS.read_text())
    return nbformat.writes(notebook).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m student_template.make_notebook", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed notebook is out of date")
    parser.add_argument("--output", type=Path, default=NOTEBOOK, help=f"default: {NOTEBOOK.name} next to vit.py")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    text = render()
    if args.check:
        current = args.output.read_text() if args.output.is_file() else ""
        if current != text:
            log.error("%s is out of date; run `python -m student_template.make_notebook`.", args.output)
            return 1
        log.info("%s is up to date.", args.output)
        return 0
    args.output.write_text(text)
    log.info("wrote %s (%d cells)", args.output, text.count('"cell_type"'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
