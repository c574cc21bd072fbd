"""The HTTP contract of both services: one OpenAPI document, in the package both install."""

from pathlib import Path

# docs/API.md in machine form; auth_service serves it at /openapi.json.
OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.json")
