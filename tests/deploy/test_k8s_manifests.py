"""The Kubernetes manifests under deploy/k8s validate against the Kubernetes API schemas (kubernetes-validate)
and say what the deployment needs: GPU workers, no shared disk, KEDA scaling on the service's queue."""

from pathlib import Path

import pytest
import yaml

kubernetes_validate = pytest.importorskip("kubernetes_validate")

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"


def documents(name: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


def applied() -> list[dict]:
    kustomization = documents("kustomization.yaml")[0]
    return [doc for name in kustomization["resources"] for doc in documents(name)]


def by_name(kind: str, name: str) -> dict:
    return next(
        d for d in applied() + documents("secret.example.yaml") if d["kind"] == kind and d["metadata"]["name"] == name
    )


@pytest.mark.parametrize("name", sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"))
def test_every_kubernetes_object_validates_strictly(name: str) -> None:
    for document in documents(name):
        if document["apiVersion"].startswith("keda.sh/"):
            continue  # a CRD: checked below
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest_but_the_secret_example() -> None:
    listed = set(documents("kustomization.yaml")[0]["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert listed == present


def container(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]["containers"][0]


def test_workers_request_a_gpu_and_keep_only_the_sandbox_capabilities() -> None:
    worker = container(by_name("Deployment", "vitgrade-worker"))
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == 1
    security = worker["securityContext"]
    assert security["allowPrivilegeEscalation"] is False and security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    assert set(security["capabilities"]["add"]) == {"CHOWN", "DAC_OVERRIDE", "SETUID", "SETGID", "KILL", "SYS_ADMIN"}
    assert not security.get("privileged", False)


def test_api_runs_unprivileged_and_probes_the_service_endpoints() -> None:
    api = by_name("Deployment", "vitgrade-api")
    pod = api["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    probes = container(api)
    assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_no_pod_shares_a_disk_with_another() -> None:
    """Workers on other nodes need only the database: no PersistentVolumeClaim, no hostPath."""
    for document in applied():
        spec = document.get("spec", {}).get("template", {}).get("spec", {})
        for volume in spec.get("volumes", []):
            assert set(volume) <= {"name", "emptyDir"}, volume


def test_keda_scales_workers_on_the_queue_with_the_services_own_status_names() -> None:
    scaled = by_name("ScaledObject", "vitgrade-worker")
    assert scaled["spec"]["scaleTargetRef"]["name"] == "vitgrade-worker"
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "postgresql"
    metadata = trigger["metadata"]
    assert set(metadata) <= {"connectionFromEnv", "query", "targetQueryValue", "activationTargetQueryValue"}
    assert all(isinstance(v, str) for v in metadata.values())  # KEDA's trigger metadata is a string map
    from service.models import Job, Status

    assert f"FROM {Job.__tablename__} " in metadata["query"]
    assert f"'{Status.queued.value}'" in metadata["query"] and f"'{Status.running.value}'" in metadata["query"]
    worker_env = [v for src in container(by_name("Deployment", "vitgrade-worker"))["envFrom"] for v in src.values()]
    secret = by_name("Secret", "vitgrade-database")
    assert {"name": "vitgrade-database"} in worker_env
    assert metadata["connectionFromEnv"] in secret["stringData"]


def test_the_queue_query_runs_on_the_service_schema(tmp_path: Path) -> None:
    """The scaler's query is valid SQL over the real tables (checked on SQLite)."""
    from sqlalchemy import text

    from service.config import Settings
    from service.db import Database
    from service.migrate import upgrade

    database = Database(Settings(var_dir=tmp_path))
    upgrade(database)
    query = by_name("ScaledObject", "vitgrade-worker")["spec"]["triggers"][0]["metadata"]["query"]
    with database.session() as session:
        assert session.execute(text(query)).scalar() == 0
    database.dispose()
