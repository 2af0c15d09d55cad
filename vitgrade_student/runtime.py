"""Run your own code on a check's request, in this process (your machine, your code: no sandbox).

The same steps as the grader's child process: build ``name(**kwargs)`` right after
``torch.manual_seed(seed)``, load the given weights with ``strict=True``, run the input in eval mode,
backpropagate ``grad_output`` when asked, and report the state_dict's shapes, the parameter count and
the asked attributes. Your global random state is left as it was.
"""

import importlib.util
import sys
import traceback
import types
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import torch

from vitgrade_student import standins

SHORT_TRACEBACK_LINES = 12


class StudentCodeError(Exception):
    """Your code raised or answered something unusable; ``kind`` as in the grader's report."""

    def __init__(self, kind: str, message: str, trace: str = ""):
        super().__init__(message)
        self.kind = kind  # not_implemented, state_dict, missing_name, bad_output, exception
        self.message = message
        self.trace = trace


def namespace_of(code: Any = None) -> Mapping[str, Any]:
    """Where your names live: a module, a dict, a path to a ``.py`` file, or (default) the notebook's globals."""
    if code is None:
        return vars(sys.modules["__main__"])
    if isinstance(code, types.ModuleType):
        return vars(code)
    if isinstance(code, Mapping):
        return code
    path = Path(code)
    if path.suffix == ".py":
        spec = importlib.util.spec_from_file_location(f"vitgrade_local_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return vars(module)
    raise TypeError(f"check(code=...) takes a module, a dict of names or a .py path, not {code!r}.")


def _short(error: BaseException) -> str:
    lines = [line for line in "".join(traceback.format_exception(error)).splitlines() if line.strip()]
    if len(lines) > SHORT_TRACEBACK_LINES:
        lines = ["...", *lines[-SHORT_TRACEBACK_LINES:]]
    return "\n".join(lines)


def _lookup(names: Mapping[str, Any], name: str) -> Any:
    if name not in names:
        raise StudentCodeError("missing_name", f"the submission does not define {name!r}")
    return names[name]


def _plain(value: Any, what: str) -> torch.Tensor:
    if type(value) is not torch.Tensor:
        raise StudentCodeError("bad_output", f"{what} is a {type(value).__name__}, expected a plain torch.Tensor")
    allowed = (torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int64, torch.int32, torch.uint8)
    if value.dtype not in (*allowed, torch.bool):
        raise StudentCodeError("bad_output", f"{what} has dtype {value.dtype}, expected a float or integer dtype")
    return value.detach().to("cpu").contiguous().clone()


def _attributes(model: torch.nn.Module, paths: list[str]) -> dict[str, Any]:
    found = {}
    for path in paths:
        value: Any = model
        try:
            for part in path.split("."):
                value = getattr(value, part)
        except Exception:  # noqa: BLE001 - a missing attribute is reported as missing by the check
            continue
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, bool | int | float | str) or (
            isinstance(value, list) and all(type(v) is int for v in value)
        ):
            found[path] = value
    return found


def run(names: Mapping[str, Any], op: str, args: dict[str, Any], inputs: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Answer one request with your code: ``output``, ``input_grad``, ``state_shapes``, ``num_params``,
    ``attributes``; your exception becomes a ``StudentCodeError``."""
    try:
        with torch.random.fork_rng(devices=[]):
            return _forward(names, args, inputs) if op == "forward" else _call(names, args)
    except standins.Borrowed as error:
        raise StudentCodeError(
            "bad_output",
            f"{args['name']}: {error}; every graded module must be defined in your own file",
        ) from None
    except StudentCodeError:
        raise
    except NotImplementedError as error:
        raise StudentCodeError("not_implemented", str(error) or "NotImplementedError", _short(error)) from None
    except Exception as error:  # noqa: BLE001 - anything your code raises is reported, never swallowed
        raise StudentCodeError("exception", f"{type(error).__name__}: {error}", _short(error)) from None


def _namespace_of_class(factory: Any, names: Mapping[str, Any]) -> MutableMapping[str, Any] | None:
    """Where ``factory``'s constructor looks its names up (your module's globals, as the harness patches them):
    the globals of the first ``__init__`` of your own classes, else ``names`` itself."""
    if not isinstance(factory, type):
        return None
    for klass in factory.__mro__:
        init = vars(klass).get("__init__")
        found = getattr(init, "__globals__", None)
        if isinstance(found, dict) and not str(found.get("__name__", "")).startswith("torch"):
            return found
    return names if isinstance(names, MutableMapping) else None


def _build(names: Mapping[str, Any], args: dict[str, Any]) -> tuple[torch.nn.Module, list[str], dict[str, str]]:
    """``name(**kwargs)`` right after ``manual_seed(seed)``, with the stand-ins of ``args["substitute"]`` in
    place of its sub-modules, as the grader's child builds it: contract names bound to stand-in classes while
    it is built (your own classes where that fails or a path names nothing), then each path replaced."""
    factory, kwargs, seed = _lookup(names, args["name"]), args.get("kwargs", {}), int(args.get("seed", 0))
    substitute = args.get("substitute") or {}
    classes = standins.stand_in_classes()
    bind = {n: k for n, k in (substitute.get("names") or {}).items() if k in classes}
    paths = [p for p in substitute.get("paths") or [] if p.get("kind") in classes]
    namespace = _namespace_of_class(factory, names)
    if namespace is None:
        bind = {}
    model = None
    while bind:
        torch.manual_seed(seed)
        try:
            with standins.bound(namespace, bind, classes):
                model = factory(**kwargs)
        except Exception:  # noqa: BLE001 - built again below with your own classes
            model = None
            break
        failed = set()
        for item in paths:
            try:
                standins.resolve(model, item["path"], classes[item["kind"]])
            except LookupError:
                failed.add(item["kind"])
        if not failed & set(bind.values()):
            break
        model, bind = None, {n: k for n, k in bind.items() if k not in failed}
    if model is None:
        torch.manual_seed(seed)
        model = factory(**kwargs)
    if not isinstance(model, torch.nn.Module):
        raise StudentCodeError("bad_output", f"{args['name']}(...) built a {type(model).__name__}, not an nn.Module")
    placed, errors = standins.place(
        model, paths, classes, bool(bind)
    )  # also refuses a stand-in used as your own module
    return model, placed, errors


def _forward(names: Mapping[str, Any], args: dict[str, Any], inputs: dict[str, torch.Tensor]) -> dict[str, Any]:
    standins.ARMED.clear()
    try:
        return _run_forward(names, args, inputs)
    finally:
        standins.ARMED.clear()  # the stand-ins of this request compute nothing once it is answered


def _run_forward(names: Mapping[str, Any], args: dict[str, Any], inputs: dict[str, torch.Tensor]) -> dict[str, Any]:
    model, placed, errors = _build(names, args)
    result: dict[str, Any] = {
        "num_params": sum(p.numel() for p in model.parameters()),
        "state_shapes": {k: tuple(v.shape) for k, v in model.state_dict().items()},
        "substituted": placed,
        "substitution_errors": errors,
    }
    if args.get("load_state"):
        state = {k[6:]: v.clone() for k, v in inputs.items() if k.startswith("state.")}
        try:
            model.load_state_dict(state, strict=True)
        except Exception as error:  # noqa: BLE001 - missing/unexpected keys, shape mismatch
            raise StudentCodeError("state_dict", str(error), _short(error)) from None
    model.train(bool(args.get("train_mode", False)))
    if "input" in inputs:
        x = inputs["input"].clone()
        backward = bool(args.get("backward", False))
        if backward:
            x.requires_grad_(True)
        with torch.set_grad_enabled(backward):
            output = model(x)
        if isinstance(output, standins.StandInOutput):
            output = output.as_subclass(torch.Tensor)  # what flowed out of a stand-in, back to a plain tensor
        result["output"] = _plain(output, f"{args['name']}.forward output")
        if backward:
            output.backward(inputs["grad_output"])
            if x.grad is None:
                raise StudentCodeError("bad_output", "the input received no gradient (is the output detached?)")
            result["input_grad"] = x.grad.detach().clone().as_subclass(torch.Tensor)
    result["attributes"] = _attributes(model, list(args.get("attributes", [])))
    return result


def _call(names: Mapping[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    function = _lookup(names, args["name"])
    with torch.no_grad():
        output = function(*args.get("args", []), **args.get("kwargs", {}))
    return {"output": _plain(output, f"{args['name']}(...)")}
