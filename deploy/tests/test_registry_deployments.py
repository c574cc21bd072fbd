"""Every deployment gives each part the settings the registry says it reads, and nothing else.

The registry (authcore/authcore/settings_registry.py) names, for each
setting, the parts that read it. The compose file passes a part every one of
them (a person sets any of them in `.env`); the Swarm stack and the
Kubernetes manifests pass every setting a part cannot start without (secrets,
runner-built addresses) and may leave an optional one to its default. None
of the three passes a part a setting it doesn't read: a secret in the wrong
container is a leak, a typo a silent default.
"""

from pathlib import Path

import pytest
import yaml

from authcore.settings_registry import DEPLOYED_PARTS, REGISTRY, settings_of
from deploy.tests.test_deploy_settings import _k8s_settings, _swarm_settings

ROOT = Path(__file__).resolve().parents[2]


def _compose_settings() -> dict[str, dict[str, str]]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return {name: dict(spec.get("environment") or {}) for name, spec in services.items()}


def _setting_names(environment: dict[str, str]) -> set[str]:
    """The registry names an environment gives: ``X_FILE`` counts as ``X`` for a secret."""
    names = set()
    for name in environment:
        base = name.removesuffix("_FILE")
        names.add(base if base != name and base in REGISTRY and REGISTRY[base].secret else name)
    return names


def _must_have(part: str, every_optional: bool) -> set[str]:
    return {
        setting.name
        for setting in settings_of(part)
        if not setting.in_image
        and setting.mode is None
        and (every_optional or setting.group == "secrets" or setting.runner or setting.required)
    }


DEPLOYMENTS = {
    "compose": (_compose_settings, True),
    "swarm": (_swarm_settings, False),
    "k8s": (_k8s_settings, False),
}


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
@pytest.mark.parametrize("part", DEPLOYED_PARTS)
def test_each_part_gets_exactly_the_settings_it_reads(deployment, part):
    read_settings, every_optional = DEPLOYMENTS[deployment]
    given = _setting_names(read_settings()[part])
    reads = {setting.name for setting in settings_of(part)}
    assert not given - reads, f"{deployment} gives {part} settings it does not read: {sorted(given - reads)}"
    missing = _must_have(part, every_optional) - given
    assert not missing, f"{deployment} does not give {part}: {sorted(missing)}"
