"""auth_service unit-test fixtures: the real Postgres and Redis of the test stack."""

import os
import secrets

import psycopg
import pytest

from auth_app.app import create_app
from auth_app.settings import database_conninfo, load_settings, migration_conninfo
from tests.stack_env import stack_setting


@pytest.fixture(scope="session")
def database_url() -> str:
    """The service's own connection (its role, its password), as auth_service connects."""
    stack_setting("DATABASE_URL")
    return database_conninfo(os.environ)


@pytest.fixture
def conn(database_url):
    """A connection whose work is rolled back at the end of the test."""
    with psycopg.connect(database_url) as connection:
        yield connection
        connection.rollback()


@pytest.fixture
def owner_conn():
    """The schema owner's connection (migrations' role); everything it does is rolled back."""
    stack_setting("MIGRATION_DATABASE_URL")
    with psycopg.connect(migration_conninfo(os.environ)) as connection:
        yield connection
        connection.rollback()


@pytest.fixture
def settings(database_url):
    env = {**os.environ, "JWT_SECRET": secrets.token_urlsafe(48), "JWT_KEYS": "", "BCRYPT_ROUNDS": "4"}
    return load_settings(env)


@pytest.fixture
def app(settings):
    application = create_app(settings, pool_size=2, background=False)
    yield application
    application.extensions["pool"].close()


@pytest.fixture
def client(app):
    return app.test_client()
