"""NAME_FILE settings: the file's content becomes the variable, or a clear error."""

import pytest

from authcore.secret_files import load_secret_files
from authcore.settings import SettingsError


def test_file_content_becomes_the_variable(tmp_path):
    secret = tmp_path / "jwt_secret"
    secret.write_text("s3cret-value-with-enough-variety-0123456789\n")
    password = tmp_path / "pg"
    password.write_text("pg-password")
    env = {"JWT_SECRET_FILE": str(secret), "POSTGRES_PASSWORD_FILE": str(password)}
    load_secret_files(env)
    assert env["JWT_SECRET"] == "s3cret-value-with-enough-variety-0123456789"
    assert env["PGPASSWORD"] == "pg-password"
    assert "JWT_KEYS" not in env


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JWT_SECRET_FILE": "/nonexistent/secret"}, "JWT_SECRET_FILE names a file that cannot be read"),
        ({"JWT_SECRET_FILE": "{empty}"}, "JWT_SECRET_FILE names an empty file"),
        ({"JWT_SECRET_FILE": "{empty}", "JWT_SECRET": "x"}, "JWT_SECRET_FILE and JWT_SECRET are both set"),
        ({"POSTGRES_PASSWORD_FILE": "{empty}", "PGPASSWORD": "x"}, "POSTGRES_PASSWORD_FILE and PGPASSWORD"),
    ],
)
def test_bad_file_settings_name_the_setting(tmp_path, env, message):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    env = {name: value.format(empty=empty) for name, value in env.items()}
    with pytest.raises(SettingsError, match=message):
        load_secret_files(env)


def test_loading_twice_is_the_same_as_once(tmp_path):
    secret = tmp_path / "jwt"
    secret.write_text("s3cr3t-value-from-a-file\n")
    env = {"JWT_SECRET_FILE": str(secret)}
    load_secret_files(env)
    load_secret_files(env)
    assert env == {"JWT_SECRET": "s3cr3t-value-from-a-file"}
