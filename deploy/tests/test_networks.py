"""Compose and Swarm: the gateway's upstream (whoami, or your service) reaches nginx and nothing else.

The upstream sits on a network of its own with nginx alone: it can't call
auth_service or api_service past nginx's limits with an X-Forwarded-For of
its choosing, nor reach the data stores, and nothing but nginx reaches it.
Reads the files only; needs no stack.
"""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FILES = {"compose": ROOT / "docker-compose.yml", "swarm": ROOT / "deploy" / "swarm" / "stack.yml"}
UPSTREAM_NETWORK = "gateway"


def _networks(service: dict) -> set[str]:
    networks = service.get("networks") or []
    return set(networks if isinstance(networks, list) else networks.keys())


@pytest.fixture(params=sorted(FILES), ids=sorted(FILES))
def stack(request) -> dict:
    return yaml.safe_load(FILES[request.param].read_text())


def test_the_upstream_is_on_its_own_network_with_nginx_alone(stack):
    services = stack["services"]
    assert _networks(services["whoami"]) == {UPSTREAM_NETWORK}
    members = {name for name, service in services.items() if UPSTREAM_NETWORK in _networks(service)}
    assert members == {"nginx", "whoami"}


def test_the_upstream_network_has_no_route_out(stack):
    assert stack["networks"][UPSTREAM_NETWORK].get("internal") is True


def test_the_services_and_data_stores_share_no_network_with_the_upstream(stack):
    services = stack["services"]
    upstream = _networks(services["whoami"])
    for name in ("auth_service", "api_service", "postgres", "redis", "mailsink"):
        assert not _networks(services[name]) & upstream, name
