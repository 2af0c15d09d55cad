"""docs/configuration.md: every settings field documented with its default, and every variable that the docs and the
deployments name is a setting that takes effect (or listed among the variables the Python code does not read)."""

import os
import re
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel
from pydantic_settings import BaseSettings

from grader.settings import ENV_PREFIX, NESTED_PREFIX, GraderSettings
from service import settings_doc
from service.config import Settings

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"\bVITGRADE_[A-Z0-9_]+")
INTERPOLATION = re.compile(r"^\$\{(?P<name>[A-Z0-9_]+):-(?P<default>[^}]*)\}$")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


def test_configuration_doc_lists_every_setting_with_its_default():
    text = (ROOT / "docs" / "configuration.md").read_text()
    assert settings_doc.documented(text) == settings_doc.render(), (
        "docs/configuration.md is out of date with the settings models: run `python -m service.settings_doc`"
    )


def _fields(model: type[BaseModel], path: str):
    for name, field in model.model_fields.items():
        yield f"{path}.{name}", field
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _fields(annotation, f"{path}.{name}")


def test_every_settings_field_has_a_description():
    missing = [
        path
        for section in settings_doc.SECTIONS
        for path, field in _fields(section.model, section.model.__name__)
        if not (field.description or "").strip()
    ]
    assert not missing, f"fields without a description (the docs' meaning column): {missing}"


def nested_settings() -> dict[str, type[BaseSettings]]:
    """The fields of ``Settings`` that are settings classes of their own (``grader``...)."""
    return {
        name: field.annotation
        for name, field in Settings.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseSettings)
    }


def test_every_nested_settings_class_has_its_section_in_the_docs():
    nested = set(nested_settings().values())
    assert GraderSettings in nested
    assert nested <= {section.model for section in settings_doc.SECTIONS}, "add a Section to service/settings_doc.py"


def settings_variables() -> dict[str, tuple[str, ...]]:
    """Every settings variable -> the path of its field in ``Settings`` (nested forms included)."""
    found: dict[str, tuple[str, ...]] = {}
    field_of = {model: name for name, model in nested_settings().items()}
    for section in settings_doc.SECTIONS:
        base = (field_of[section.model],) if section.model in field_of else ()
        for row in settings_doc.rows(section.model, section.prefix):
            variable = row.variable.strip("`")
            path = (*base, *variable[len(section.prefix) :].lower().split("__"))
            found[variable] = path
            if section.model is GraderSettings:
                found[NESTED_PREFIX + variable[len(ENV_PREFIX) :]] = path
    return found


def other_variables() -> set[str]:
    """The first column of docs/configuration.md's table of variables that are not settings."""
    text = (ROOT / "docs" / "configuration.md").read_text().split("## Other variables", 1)[1]
    return {name for line in text.splitlines() if line.startswith("| `") for name in NAME.findall(line.split("|")[1])}


DOCUMENTED_IN = ["README.md", "service/README.md", "docs/*.md", "compose*.yaml", "docker/**/*", "deploy/**/*"]
DOCUMENTED_IN += ["scripts/**/*", "examples/**/*"]


def test_every_variable_the_docs_and_deployments_name_is_a_setting_or_listed():
    known = set(settings_variables()) | other_variables()
    unknown = {}
    for pattern in DOCUMENTED_IN:
        for path in ROOT.glob(pattern):
            if path.is_file() and path.suffix not in (".pyc", ".gz"):
                for name in NAME.findall(path.read_text(errors="replace")):
                    if not name.endswith("_") and name not in known:
                        unknown.setdefault(name, str(path.relative_to(ROOT)))
    assert not unknown, f"variables named but neither a setting nor in docs/configuration.md: {unknown}"


def container_environments() -> dict[str, dict[str, str]]:
    """The VITGRADE_* variables each deployment sets: the image, compose's services, the k8s manifests."""
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    image = dict(re.findall(r"\b(VITGRADE_[A-Z0-9_]+)=(\S+)", dockerfile))
    image = {k: v for k, v in image.items() if "$" not in v}  # build arguments are not known here
    sets = {"docker/Dockerfile": image}
    for file in ("compose.yaml", "compose.cpu.yaml"):
        for name, service in yaml.safe_load((ROOT / file).read_text())["services"].items():
            environment = service.get("environment") or {}
            sets[f"{file} {name}"] = {k: _interpolated(str(v)) for k, v in environment.items()}
    configmap = yaml.safe_load((ROOT / "deploy" / "k8s" / "configmap.yaml").read_text())
    worker = yaml.safe_load((ROOT / "deploy" / "k8s" / "worker.yaml").read_text())
    container = worker["spec"]["template"]["spec"]["containers"][0]
    sets["k8s worker"] = {
        **configmap["data"],
        **{e["name"]: e["value"] for e in container.get("env", []) if "value" in e},
    }
    return {where: {k: v for k, v in env.items() if k.startswith(ENV_PREFIX)} for where, env in sets.items()}


def _interpolated(value: str) -> str:
    match = INTERPOLATION.match(value)
    return match["default"] if match else value


def _at(settings: BaseModel, path: tuple[str, ...]):
    for part in path:
        settings = getattr(settings, part)
    return settings


def test_every_variable_a_deployment_sets_takes_effect(monkeypatch):
    """Each container's variables, set together, reach the field the docs name, with the value set."""
    variables = settings_variables()
    environments = container_environments()
    assert environments["docker/Dockerfile"] and environments["k8s worker"] and environments["compose.yaml worker"]
    for where, environment in environments.items():
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        settings = Settings()
        for name, value in environment.items():
            if name not in variables:
                continue  # read by the entrypoint or compose, not by the Python code (checked above)
            path = variables[name]
            model = nested_settings()[path[0]] if len(path) == 2 else Settings
            expected = _at(model(**{path[-1]: value}), path[-1:]) if len(path) <= 2 else None
            assert expected is None or _at(settings, path) == expected, f"{where}: {name}={value!r}"
        for name in environment:
            monkeypatch.delenv(name)
