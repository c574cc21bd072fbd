"""The Swarm stack and the Kubernetes manifests give each part the same data-store settings.

One source of truth: the same role, ACL user and secret file names whoever
starts the processes. A part that connects as the wrong role or user (or
reads a password it doesn't need) fails here, before any cluster sees it.
Reads the files only; needs no stack.
"""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SWARM = ROOT / "deploy" / "swarm" / "stack.yml"
K8S = ROOT / "deploy" / "k8s"
K8S_FILES = [*sorted((K8S / "base").glob("*.yaml")), K8S / "overlays" / "dev" / "datastores.yaml"]
# Each part has the same name in both: the Swarm service, the Kubernetes container.
PARTS = ("api_service", "auth_service", "migrate", "postgres", "redis")


def _is_store_setting(name: str) -> bool:
    return name.endswith(("DATABASE_URL", "REDIS_URL", "_FILE"))


def _swarm_settings() -> dict[str, dict[str, str]]:
    services = yaml.safe_load(SWARM.read_text())["services"]
    return {
        name: {k: str(v) for k, v in (spec.get("environment") or {}).items()}
        for name, spec in services.items()
    }


def _k8s_settings() -> dict[str, dict[str, str]]:
    documents = [doc for path in K8S_FILES for doc in yaml.safe_load_all(path.read_text()) if doc]
    config_maps = {
        doc["metadata"]["name"]: doc.get("data", {}) for doc in documents if doc["kind"] == "ConfigMap"
    }
    settings = {}
    for doc in documents:
        template = (doc.get("spec") or {}).get("template")
        if not template:
            continue
        for container in template["spec"]["containers"]:
            values = {}
            for source in container.get("envFrom", []):
                values.update(config_maps[source["configMapRef"]["name"]])
            for entry in container.get("env", []):
                if "value" in entry:
                    values[entry["name"]] = entry["value"]
                else:
                    ref = entry["valueFrom"]["configMapKeyRef"]
                    values[entry["name"]] = config_maps[ref["name"]][ref["key"]]
            settings[container["name"]] = values
    return settings


@pytest.mark.parametrize("service", PARTS)
def test_each_part_connects_as_the_same_role_and_user_with_the_same_secret_files(service):
    swarm = {k: v for k, v in _swarm_settings()[service].items() if _is_store_setting(k)}
    k8s = {k: v for k, v in _k8s_settings()[service].items() if _is_store_setting(k)}
    assert swarm, f"{service} has no data-store setting in the Swarm stack"
    assert sorted(swarm) == sorted(k8s), (service, swarm, k8s)
    for name, value in swarm.items():
        if name.endswith("_FILE"):  # mounted in different folders: the file's name must match
            assert Path(value).name == Path(k8s[name]).name, (service, name, value, k8s[name])
        else:
            assert value == k8s[name], (service, name, value, k8s[name])


def test_the_kubernetes_data_stores_are_the_stacks_own_images():
    images = {
        container["name"]: container["image"]
        for doc in yaml.safe_load_all((K8S / "overlays" / "dev" / "datastores.yaml").read_text())
        if doc and doc["kind"] == "StatefulSet"
        for container in doc["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"postgres": "authstack/postgres", "redis": "authstack/redis"}
