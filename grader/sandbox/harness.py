"""The sandboxed child: import the student's module, then serve the parent's requests (docs/architecture.md).

Standalone on purpose (stdlib, torch and safetensors only; never ``grader`` or ``reference``): the
parent copies this file into the child's private directory and runs it with ``python -I``. Requests
and replies are frames on two inherited pipes; stdout and stderr are only the submission's log.
Everything this process computes is data for the parent, which alone decides verdicts.

Frame: ``u32 header length | JSON header | u64 payload length | payload`` (big-endian; the payload
is a safetensors blob or empty). Each reply echoes the request's ``id`` (a random nonce).
"""

import argparse
import contextlib
import importlib.util
import json
import math
import os
import struct
import sys
import time
import traceback
import types

HEADER_LEN = struct.Struct(">I")
PAYLOAD_LEN = struct.Struct(">Q")
MAX_HEADER = 1 << 20
MAX_TRACEBACK = 4000
MODULE_NAME = "submission"
HARNESS_FILE = os.path.abspath(__file__)
# Contract names whose class the parent may swap for a stand-in while the student's composite is built.
STANDIN_KINDS = ("attention", "mlp", "patch_embedding", "block")
# ids of the stand-ins the harness placed for the request being answered; emptied after each request
ARMED: set[int] = set()


class StudentFault(Exception):
    """A failure to report as ``StudentError(kind, message, traceback)`` in the parent."""

    def __init__(self, kind: str, message: str, trace: str = ""):
        super().__init__(message)
        self.kind, self.message, self.trace = kind, message, trace


class Channel:
    """The two pipes to the parent, held as private descriptors."""

    def __init__(self, request_fd: int, reply_fd: int):
        self.request_fd, self.reply_fd = request_fd, reply_fd

    def read(self) -> tuple[dict, bytes] | None:
        head = self._read_exact(HEADER_LEN.size)
        if head is None:
            return None
        (head_len,) = HEADER_LEN.unpack(head)
        if head_len > MAX_HEADER:
            raise SystemExit(f"request header of {head_len} bytes")
        header = json.loads(self._read_exact(head_len) or b"{}")
        (payload_len,) = PAYLOAD_LEN.unpack(self._read_exact(PAYLOAD_LEN.size) or b"\0" * 8)
        return header, (self._read_exact(payload_len) or b"") if payload_len else b""

    def write(self, header: dict, payload: bytes = b"") -> None:
        head = json.dumps(header, separators=(",", ":")).encode()
        view = memoryview(HEADER_LEN.pack(len(head)) + head + PAYLOAD_LEN.pack(len(payload)) + payload)
        while view:
            view = view[os.write(self.reply_fd, view) :]

    def _read_exact(self, size: int) -> bytes | None:
        chunks = bytearray()
        while len(chunks) < size:
            chunk = os.read(self.request_fd, size - len(chunks))
            if not chunk:
                return None
            chunks += chunk
        return bytes(chunks)


def short_traceback(error: BaseException, module_file: str) -> str:
    """Only the submission's own frames, then the exception line: what a student needs, nothing of ours."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == module_file]
    lines = ["Traceback (submission frames only):\n"] + traceback.format_list(frames)
    lines += traceback.format_exception_only(type(error), error)
    text = "".join(lines).replace(module_file, os.path.basename(module_file))
    return text if len(text) <= MAX_TRACEBACK else text[:MAX_TRACEBACK] + "\n... (truncated)"


def standin_classes(torch) -> dict:
    """Trusted stand-ins for the contract's sub-modules, built fresh for each request from torch primitives.

    They carry the contract's parameter names, so the reference weights load strictly, and run only while
    ``ARMED`` holds their id: the harness arms the ones it placed for one request and disarms them after,
    so a stand-in a submission builds, grabs from its own composite, or calls on itself computes nothing;
    and ``borrowed_modules`` refuses a module that runs this file's code where the harness did not place
    it. Like the reply nonce, this is a speed bump against code that digs in the harness's memory, not a
    wall; the verdicts stay the parent's.
    """
    nn = torch.nn

    class StandInOutput(torch.Tensor):
        """A stand-in's output: one tensor that refuses to be unpacked, so that a composite written for a
        sub-module returning a tuple fails loudly (and is graded with its own sub-modules) instead of
        silently unpacking the batch axis."""

        def __iter__(self):
            raise TypeError("the grader's stand-in returns one tensor, not a tuple: it cannot be unpacked")

    def guard(module) -> None:
        if id(module) not in ARMED:
            raise RuntimeError("this is the grader's stand-in module; graded code must be your own")

    class StandInAttention(nn.Module):
        """Q4: softmax(Q_i K_i^T / sqrt(d_h)) V_i per head, heads concatenated, then proj."""

        def __init__(self, embed_dim, num_heads=1, *args, **kwargs):
            super().__init__()
            self.embed_dim, self.num_heads = embed_dim, num_heads
            self.q, self.k, self.v, self.proj = (nn.Linear(embed_dim, embed_dim) for _ in range(4))

        def forward(self, x, *args, **kwargs):
            guard(self)
            B, N, D = x.shape
            h = self.num_heads

            def split(t):
                return t.view(B, N, h, D // h).transpose(1, 2)  # (B, h, N, d_h)

            scores = split(self.q(x)) @ split(self.k(x)).transpose(-2, -1) / math.sqrt(D // h)  # (B, h, N, N)
            out = scores.softmax(dim=-1) @ split(self.v(x))  # (B, h, N, d_h)
            return self.proj(out.transpose(1, 2).reshape(B, N, D)).as_subclass(StandInOutput)  # (B, N, D)

    class StandInMLP(nn.Module):
        """Q2: fc2(GELU(fc1(x)))."""

        def __init__(self, in_features, hidden_features, *args, **kwargs):
            super().__init__()
            self.fc1, self.act = nn.Linear(in_features, hidden_features), nn.GELU()
            self.fc2 = nn.Linear(hidden_features, in_features)

        def forward(self, x, *args, **kwargs):
            guard(self)
            return self.fc2(self.act(self.fc1(x))).as_subclass(StandInOutput)  # (B, N, D)

    class StandInPatchEmbedding(nn.Module):
        """Q1: Conv2d with kernel = stride = patch, (B, D, h, w) -> (B, N, D) row-major."""

        def __init__(self, img_size=28, patch_size=7, in_chans=1, embed_dim=64, *args, **kwargs):
            super().__init__()
            self.img_size, self.patch_size = img_size, patch_size
            self.num_patches = (img_size // patch_size) ** 2
            self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

        def forward(self, x, *args, **kwargs):
            guard(self)
            out = self.proj(x).flatten(2).transpose(1, 2)  # (B, D, h, w) -> (B, D, N) -> (B, N, D)
            return out.as_subclass(StandInOutput)

    class StandInBlock(nn.Module):
        """Q5: x + attn(norm1(x)), then + mlp(norm2(.))."""

        def __init__(self, embed_dim, num_heads=1, mlp_ratio=4.0, *args, **kwargs):
            super().__init__()
            self.norm1, self.norm2 = nn.LayerNorm(embed_dim), nn.LayerNorm(embed_dim)
            self.attn = StandInAttention(embed_dim, num_heads)
            self.mlp = StandInMLP(embed_dim, int(embed_dim * mlp_ratio))

        def forward(self, x, *args, **kwargs):
            guard(self)
            x = x + self.attn(self.norm1(x))  # (B, N, D)
            return (x + self.mlp(self.norm2(x))).as_subclass(StandInOutput)  # (B, N, D)

    return {
        "attention": StandInAttention,
        "mlp": StandInMLP,
        "patch_embedding": StandInPatchEmbedding,
        "block": StandInBlock,
    }


def harness_code(function) -> bool:
    """True when ``function`` (a forward) is code of this file: a stand-in taken by a submission."""
    code = getattr(getattr(function, "__func__", function), "__code__", None)
    return code is not None and os.path.abspath(code.co_filename) == HARNESS_FILE


def borrowed_modules(model, torch, placed: set) -> list[str]:
    """Paths of modules in ``model`` that run this file's code but were not placed by the harness."""
    found = []
    for path, sub in model.named_modules():
        if id(sub) in placed:
            continue
        forwards = [vars(klass).get("forward") for klass in type(sub).__mro__ if klass is not torch.nn.Module]
        forwards.append(vars(sub).get("forward"))
        if any(f is not None and harness_code(f) for f in forwards):
            found.append(path or "(the module itself)")
    return found


class Harness:
    """The ops of the protocol, over the imported student module."""

    def __init__(self, module_file: str, device: str, threads: int):
        import torch
        from safetensors.torch import load, save

        self.torch, self._load, self._save = torch, load, save
        self.module_file, self.device = module_file, device
        self.module: types.ModuleType | None = None
        self.import_error: str | None = None
        torch.set_num_threads(threads)
        self.ops = {
            "names": self.op_names,
            "forward": self.op_forward,
            "call": self.op_call,
            "train": self.op_train,
            "predict": self.op_predict,
            "timm": self.op_timm,
        }

    def import_module(self) -> None:
        try:
            spec = importlib.util.spec_from_file_location(MODULE_NAME, self.module_file)
            module = importlib.util.module_from_spec(spec)
            sys.modules[MODULE_NAME] = module
            spec.loader.exec_module(module)
            self.module = module
        except BaseException as error:  # noqa: BLE001 - SyntaxError, SystemExit... all are the student's
            self.import_error = short_traceback(error, self.module_file)

    # --- helpers -------------------------------------------------------------------------------

    def lookup(self, name: str):
        if self.module is None:
            raise StudentFault("exception", f"the module failed to import:\n{self.import_error}")
        if not hasattr(self.module, name):
            raise StudentFault("missing_name", f"the submission does not define {name!r}")
        return getattr(self.module, name)

    def plain(self, value, what: str):
        """A student's tensor -> a contiguous CPU plain tensor, or bad_output."""
        torch = self.torch
        if type(value) is not torch.Tensor:
            raise StudentFault("bad_output", f"{what} is a {type(value).__name__}, expected a plain torch.Tensor")
        allowed = (torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int64, torch.int32)
        if value.dtype not in allowed + (torch.uint8, torch.bool):
            raise StudentFault("bad_output", f"{what} has dtype {value.dtype}, expected a float or integer dtype")
        return value.detach().to("cpu").contiguous().clone()

    def module_tensor(self, value):
        """A parameter or buffer of a module -> a plain CPU tensor."""
        return value.detach().to("cpu").contiguous().clone().as_subclass(self.torch.Tensor)

    def attributes(self, model, paths: list[str]) -> tuple[dict, dict]:
        found, errors = {}, {}
        for path in paths:
            value = model
            try:
                for part in path.split("."):
                    value = getattr(value, part)
            except Exception as error:  # noqa: BLE001
                errors[path] = f"{type(error).__name__}: {error}"
                continue
            if isinstance(value, tuple):
                value = list(value)
            if isinstance(value, bool | int | float | str) or (
                isinstance(value, list) and all(type(v) is int for v in value)
            ):
                found[path] = value
            else:
                errors[path] = f"unsupported attribute type {type(value).__name__}"
        return found, errors

    # --- ops -----------------------------------------------------------------------------------

    def op_names(self, args: dict, tensors: dict) -> tuple[dict, dict]:
        names = []
        if self.module is not None:
            names = sorted(
                n for n, v in vars(self.module).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)
            )
        return {"names": names, "import_error": self.import_error}, {}

    def op_forward(self, args: dict, tensors: dict) -> tuple[dict, dict]:
        ARMED.clear()
        try:
            return self.forward(args, tensors, ARMED)
        finally:
            ARMED.clear()  # the stand-ins of this request compute nothing once it is answered

    @contextlib.contextmanager
    def patched(self, names: dict):
        """The student's module with some contract names bound to stand-in classes, restored after."""
        saved = {name: vars(self.module).get(name) for name in names}
        vars(self.module).update(names)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    vars(self.module).pop(name, None)
                else:
                    vars(self.module)[name] = value

    def resolve(self, model, path: str, standin: type | None = None) -> list[tuple]:
        """``(parent, attribute, full path)`` of each sub-module ``path`` names; ``*`` is every block of a
        Sequential or ModuleList. A LookupError says why the path names nothing.

        Where a name is missing (``self.attention`` for ``attn``, ``self.layers`` for ``blocks``), the one child
        the composite built from the contract's class bound to ``standin`` (or the one container of only such
        children, before a ``*``) stands for it: the student's own name for that sub-module."""
        nn = self.torch.nn
        parts = path.split(".")
        level = [("", model, None, "")]
        for i, part in enumerate(parts):
            found = []
            for prefix, module, _, _ in level:
                if part == "*":
                    if not isinstance(module, nn.Sequential | nn.ModuleList) or len(module) == 0:
                        kind = type(module).__name__
                        raise LookupError(f"'{prefix}' is a {kind}, not a non-empty nn.Sequential or nn.ModuleList")
                    children = module.named_children()
                else:
                    child = module._modules.get(part)
                    if child is None and standin is not None:
                        container = i + 1 < len(parts) and parts[i + 1] == "*"
                        own = [(n, c) for n, c in module.named_children() if self.built_as(c, standin, container)]
                        part, child = own[0] if len(own) == 1 else (part, None)
                    if child is None:
                        where = f"'{prefix}'" if prefix else "the module"
                        raise LookupError(f"{where} has no sub-module named '{part}'")
                    children = [(part, child)]
                found += [(f"{prefix}.{n}".lstrip("."), c, module, n) for n, c in children]
            level = found
        return [(parent, attr, full) for full, _, parent, attr in level]

    def built_as(self, module, standin: type, container: bool) -> bool:
        """``module`` is a stand-in built from a bound contract name (or, for a container, holds only those)."""
        nn = self.torch.nn
        if not container:
            return type(module) is standin
        return (
            isinstance(module, nn.Sequential | nn.ModuleList)
            and len(module) > 0
            and all(type(block) is standin for block in module)
        )

    def build(self, args: dict, armed: set) -> tuple:
        """The student's ``name(**kwargs)``, with the stand-ins the parent asked for in place of its sub-modules.

        ``substitute = {"names": {contract name: kind}, "paths": [{"path", "kind", "kwargs"}]}``: the names are
        bound to stand-in classes while the composite is built (so a sub-module that cannot be built does not
        stop it), then each path's sub-module is replaced by a fresh stand-in. Where a path names nothing, the
        composite is built again with the student's own class of that kind, and the path is reported, not
        replaced.
        """
        torch = self.torch
        factory, kwargs, seed = self.lookup(args["name"]), args.get("kwargs", {}), int(args.get("seed", 0))
        substitute = args.get("substitute") or {}
        classes = standin_classes(torch) if substitute else {}
        names = {n: k for n, k in (substitute.get("names") or {}).items() if k in classes}
        paths = [p for p in substitute.get("paths") or [] if p.get("kind") in classes]
        model = None
        while names and isinstance(factory, type):
            torch.manual_seed(seed)
            try:
                with self.patched({n: classes[k] for n, k in names.items()}):
                    model = factory(**kwargs)
            except Exception:  # noqa: BLE001 - built again below with the student's own classes
                model, names = None, {}
                break
            failed = set()
            for item in paths:
                try:
                    self.resolve(model, item["path"], classes[item["kind"]])
                except LookupError:
                    failed.add(item["kind"])
            if not failed & set(names.values()):
                break
            model, names = None, {n: k for n, k in names.items() if k not in failed}  # their own classes, again
        if model is None:
            torch.manual_seed(seed)
            model = factory(**kwargs)
        if not isinstance(model, torch.nn.Module):
            raise StudentFault("bad_output", f"{args['name']}(...) built a {type(model).__name__}, not an nn.Module")
        done, errors = [], {}
        for item in paths:
            try:
                targets = self.resolve(model, item["path"], classes[item["kind"]] if names else None)
            except LookupError as error:
                errors[item["path"]] = str(error)
                continue
            for parent, attr, full in targets:
                setattr(parent, attr, classes[item["kind"]](**item.get("kwargs", {})))
                done.append(full)
        fresh = tuple(classes.values())
        armed.update(id(sub) for sub in model.modules() if isinstance(sub, fresh))
        borrowed = borrowed_modules(model, torch, armed)
        if borrowed:
            raise StudentFault(
                "bad_output",
                f"{args['name']}: the module(s) at {borrowed} run the grader's stand-in code, not yours; "
                "every graded module must be defined in your own file",
            )
        return model, done, errors

    def forward(self, args: dict, tensors: dict, armed: set) -> tuple[dict, dict]:
        torch = self.torch
        model, substituted, substitution_errors = self.build(args, armed)
        own_state = {f"state.{k}": self.module_tensor(v) for k, v in model.state_dict().items()}
        norms = {
            path: float(m.eps)
            for path, m in model.named_modules()
            if isinstance(m, torch.nn.LayerNorm) and type(m.eps) in (int, float) and math.isfinite(m.eps)
        }
        values = {
            "num_params": sum(p.numel() for p in model.parameters()),
            "state_shapes": {k[6:]: list(v.shape) for k, v in own_state.items()},
            "substituted": substituted,
            "substitution_errors": substitution_errors,
            "layer_norm_eps": norms,
        }
        if args.get("load_state"):
            state = {k[6:]: v for k, v in tensors.items() if k.startswith("state.")}
            try:
                model.load_state_dict(state, strict=True)
            except Exception as error:  # noqa: BLE001 - missing/unexpected keys, shape mismatch
                raise StudentFault("state_dict", str(error), short_traceback(error, self.module_file)) from None
        model.to(self.device)
        model.train(bool(args.get("train_mode", False)))
        out_tensors = {}
        if "input" in tensors:
            x = tensors["input"].to(self.device)
            backward = bool(args.get("backward", False))
            if backward:
                x.requires_grad_(True)
            with torch.set_grad_enabled(backward):
                output = model(x)
            if isinstance(output, torch.Tensor) and harness_code(vars(type(output)).get("__iter__")):
                output = output.as_subclass(torch.Tensor)  # what flowed out of a stand-in, back to a plain tensor
            out_tensors["output"] = self.plain(output, f"{args['name']}.forward output")
            if backward:
                if "grad_output" not in tensors:
                    raise ValueError("backward needs a grad_output tensor")
                output.backward(tensors["grad_output"].to(self.device))
                if x.grad is None:
                    raise StudentFault("bad_output", "the input received no gradient (is the output detached?)")
                out_tensors["input_grad"] = self.module_tensor(x.grad)
        if args.get("return_state"):
            out_tensors.update(own_state)
        found, errors = self.attributes(model, list(args.get("attributes", [])))
        values.update(attributes=found, attribute_errors=errors)
        if args.get("module_types"):  # sub-module path -> its class and bases (the from-scratch rule)
            values["module_types"] = {
                path: [f"{c.__module__}.{c.__qualname__}" for c in type(m).__mro__] for path, m in model.named_modules()
            }
        return values, out_tensors

    def op_call(self, args: dict, tensors: dict) -> tuple[dict, dict]:
        function = self.lookup(args["name"])
        with self.torch.no_grad():
            output = function(*args.get("args", []), **args.get("kwargs", {}))
        return {}, {"output": self.plain(output, f"{args['name']}(...)")}

    def op_train(self, args: dict, tensors: dict) -> tuple[dict, dict]:
        """Q7: train the student's ViT with the grader's fixed recipe; reply with the trained weights.

        Only the training digits and their labels come in; the parent predicts the test digits itself.
        """
        torch = self.torch
        recipe = args["recipe"]
        seed = int(recipe.get("seed", 0))
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(int(recipe.get("threads", 1)))
        start = time.perf_counter()
        torch.manual_seed(seed)
        model = self.build_module("ViT", args.get("kwargs", {})).to(self.device)
        images = normalize(tensors["train_images"], torch).to(self.device)  # (N, 1, 28, 28)
        labels = tensors["train_labels"].long().to(self.device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=recipe["lr"], weight_decay=recipe["weight_decay"])
        batch_size = int(recipe["batch_size"])
        steps_per_epoch = math.ceil(len(labels) / batch_size)
        total = max(1, int(recipe["epochs"]) * steps_per_epoch)
        warmup = int(float(recipe.get("warmup_fraction", 0.0)) * total)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, warmup, total))
        generator = torch.Generator().manual_seed(seed)
        model.train()
        loss = torch.zeros(())
        for _ in range(int(recipe["epochs"])):
            order = torch.randperm(len(labels), generator=generator).to(self.device)
            for first in range(0, len(labels), batch_size):
                batch = order[first : first + batch_size]
                loss = torch.nn.functional.cross_entropy(model(images[batch]), labels[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
        final_loss = float(loss.detach().cpu())
        values = {
            "seconds": time.perf_counter() - start,
            "final_loss": final_loss if math.isfinite(final_loss) else None,
        }
        return values, {f"state.{k}": self.module_tensor(v) for k, v in model.state_dict().items()}

    def op_predict(self, args: dict, tensors: dict) -> tuple[dict, dict]:
        """Q7, the student's own forward: load ``state.*`` strictly into ``ViT(**kwargs)``, logits of ``images``.

        Served in a fresh child that never saw the training digits; the parent takes the argmax.
        """
        torch = self.torch
        torch.manual_seed(int(args.get("seed", 0)))
        model = self.build_module("ViT", args.get("kwargs", {}))
        state = {k[6:]: v for k, v in tensors.items() if k.startswith("state.")}
        try:
            model.load_state_dict(state, strict=True)
        except Exception as error:  # noqa: BLE001 - missing/unexpected keys, shape mismatch
            raise StudentFault("state_dict", str(error), short_traceback(error, self.module_file)) from None
        model.to(self.device).eval()
        images = normalize(tensors["images"], torch)  # (N, 1, 28, 28)
        logits = []
        with torch.no_grad():
            for first in range(0, len(images), 500):
                logits.append(self.plain(model(images[first : first + 500].to(self.device)), "ViT.forward output"))
        return {}, {"logits": torch.cat(logits) if logits else torch.zeros(0, 10)}

    def build_module(self, name: str, kwargs: dict):
        model = self.lookup(name)(**kwargs)
        if not isinstance(model, self.torch.nn.Module):
            raise StudentFault("bad_output", f"{name}(...) built a {type(model).__name__}, not an nn.Module")
        return model

    def op_timm(self, args: dict, tensors: dict) -> tuple[dict, dict]:
        """Q8: the student's ViT-S for MNIST: its output on ``input`` and its whole state dict (``state.*``)."""
        model = self.build_module("vit_small_for_mnist", args.get("kwargs", {}))
        model = model.to(self.device).eval()
        with self.torch.no_grad():
            output = model(tensors["input"].to(self.device))
        out = {"output": self.plain(output, "vit_small_for_mnist(...) output")}
        out.update({f"state.{k}": self.module_tensor(v) for k, v in model.state_dict().items()})
        return {}, out

    # --- loop ----------------------------------------------------------------------------------

    def handle(self, header: dict, payload: bytes) -> tuple[dict, bytes]:
        reply = {"id": header.get("id")}
        try:
            op = self.ops.get(header.get("op"))
            if op is None:
                raise ValueError(f"unknown op {header.get('op')!r}")
            tensors = self._load(payload) if payload else {}
            values, out = op(header.get("args") or {}, tensors)
            blob = self._save(out) if out else b""
            reply.update(ok=True, values=values)
            return reply, blob
        except StudentFault as fault:
            error = {"kind": fault.kind, "message": fault.message, "traceback": fault.trace}
        except NotImplementedError as fault:
            error = {"kind": "not_implemented", "message": str(fault) or "NotImplementedError", "traceback": ""}
            error["traceback"] = short_traceback(fault, self.module_file)
        except BaseException as fault:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are the student's too
            message = f"{type(fault).__name__}: {fault}"
            error = {"kind": "exception", "message": message, "traceback": short_traceback(fault, self.module_file)}
        reply.update(ok=False, error=error)
        return reply, b""


def normalize(images, torch):
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28): (x / 255 - 0.1307) / 0.3081."""
    return (images.float().div(255).unsqueeze(1) - 0.1307) / 0.3081  # (N, 1, 28, 28)


def lr_factor(step: int, warmup: int, total: int) -> float:
    """Linear warmup to 1, then cosine decay to 0."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def install_audit_hook() -> None:
    """Last, weak layer when the OS gives no isolation: refuse sockets other than AF_UNIX, and new programs."""
    import socket

    def hook(event: str, args: tuple) -> None:
        if event == "socket.__new__" and args[1] != socket.AF_UNIX:
            raise PermissionError("network access is disabled in the grader")
        if event in ("subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.system", "pty.spawn"):
            raise PermissionError("starting programs is disabled in the grader")

    sys.addaudithook(hook)


def self_report() -> dict:
    """The hello frame: what this process sees of its own confinement, before any student code runs."""
    report = {"hello": True, "pid": os.getpid(), "uid": os.getuid(), "gid": os.getgid()}
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key in ("NoNewPrivs", "Seccomp"):
                    report[{"NoNewPrivs": "no_new_privs", "Seccomp": "seccomp"}[key]] = int(value.split()[0])
    except OSError:
        pass
    report["interfaces_up"] = interfaces_up()
    report["python_readable"] = os.access(os.path.dirname(os.__file__), os.R_OK | os.X_OK)
    return report


def close_other_descriptors(keep: set[int]) -> list[int]:
    """Close every descriptor but ``keep`` before student code runs; the open ones, read back from /proc.

    Fails closed (the child exits before its hello, so no student code runs) when another stays open.
    """
    previous = -1
    for fd in sorted(keep) + [1 << 20]:
        if fd > previous + 1:  # never an empty range: closerange(n, n) closes everything from n on
            os.closerange(previous + 1, fd)
        previous = fd
    remaining = sorted(int(name) for name in os.listdir("/proc/self/fd") if _is_open(int(name)))
    if set(remaining) - keep:
        raise SystemExit(f"descriptors {sorted(set(remaining) - keep)} are still open in the sandbox")
    return remaining


def _is_open(fd: int) -> bool:
    """False for the descriptor ``os.listdir`` used (closed once the listing is read)."""
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def interfaces_up() -> list[str]:
    """Network interfaces other than loopback in this process's network namespace (none in the sandbox)."""
    try:
        with open("/proc/self/net/dev") as handle:
            lines = handle.read().splitlines()[2:]
    except OSError:
        return []
    return [name for name in (line.split(":")[0].strip() for line in lines) if name and name != "lo"]


def serve(
    module: str, request_fd: int, reply_fd: int, device: str = "cpu", threads: int = 1, audit: bool = False
) -> None:
    """Say hello, import the student's module, then answer requests until the parent closes the pipe."""
    channel = Channel(request_fd, reply_fd)
    harness = Harness(os.path.abspath(module), device, threads)
    descriptors = close_other_descriptors({0, 1, 2, request_fd, reply_fd})
    channel.write(self_report() | {"descriptors": descriptors})
    if audit:
        install_audit_hook()
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)
    harness.import_module()
    while True:
        flush_output()
        message = channel.read()
        if message is None:
            return
        reply = harness.handle(*message)
        flush_output()
        channel.write(*reply)


def flush_output() -> None:
    """Flush the student's prints before answering, so the log is complete when the parent reads it."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):  # the student may have replaced or closed the streams
            stream.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--module", required=True)
    parser.add_argument("--request-fd", type=int, required=True)
    parser.add_argument("--reply-fd", type=int, required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--audit", action="store_true")
    options = parser.parse_args()
    serve(options.module, options.request_fd, options.reply_fd, options.device, options.threads, options.audit)


if __name__ == "__main__":
    main()
