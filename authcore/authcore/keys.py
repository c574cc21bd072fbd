"""Asymmetric signing keys: loading JWK Sets, publishing their public halves, generating new ones.

With ``JWT_ALG`` = ``EdDSA`` (Ed25519) or ``ES256`` (ECDSA P-256), auth_service
signs with a private key from ``JWT_PRIVATE_KEYS_FILE`` (an RFC 7517 JWK Set:
the first key signs, the others still verify) and everything else verifies
with public keys only: api_service reads ``JWT_PUBLIC_KEYS_FILE``, anyone else
fetches ``/.well-known/jwks.json``. PyJWT reads and writes the JWKs and
``cryptography`` makes the keys; nothing here touches key material by hand.

A file that can't be used stops the service at start with one line naming
the setting (``KeySetError``), never a key.

Command line (``python -m authcore.keys ...``)::

    generate ALG [--kid KID]        a private JWK Set with one new key, on stdout
    public FILE                     the public JWK Set of a private one, on stdout
    add ALG FILE [--kid KID]        publish a next key: appended, verifying, not signing yet
    promote KID FILE                sign with KID from now on (moved first)
    remove KID FILE                 drop a key (its tokens are refused from then on)
"""

import argparse
import json
import os
import re
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import Algorithm, ECAlgorithm, OKPAlgorithm

HS256 = "HS256"
EDDSA = "EdDSA"
ES256 = "ES256"
ASYMMETRIC_ALGORITHMS = (EDDSA, ES256)
ALGORITHMS = (HS256, *ASYMMETRIC_ALGORITHMS)
PRIVATE_KEYS_SETTING = "JWT_PRIVATE_KEYS_FILE"
PUBLIC_KEYS_SETTING = "JWT_PUBLIC_KEYS_FILE"
KID_SHAPE = re.compile(r"[A-Za-z0-9._-]{1,64}")
# JWK members that are private key material (RFC 7518 6.2.2, 6.3.2; RFC 8037 2).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MAX_KEY_FILE_BYTES = 256 * 1024

# The key classes of the asymmetric algorithms, as ``cryptography`` makes them.
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


class KeySetError(ValueError):
    """A key file can't be used; the message names the setting (never key material).

    ``authcore.settings`` turns it into its ``KeySetError``.
    """


@dataclass(frozen=True)
class KeyKind:
    """What a key of one JOSE algorithm is: its JWK kty/crv, cryptography classes and PyJWT codec."""

    kty: str
    crv: str
    private_type: type[PrivateKey]
    public_type: type[PublicKey]
    codec: type[Algorithm]


KINDS = {
    EDDSA: KeyKind("OKP", "Ed25519", ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey, OKPAlgorithm),
    ES256: KeyKind("EC", "P-256", ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey, ECAlgorithm),
}


@dataclass(frozen=True)
class AsymmetricKey:
    """One key of a set: ``kid``, algorithm, public half and (auth_service only) private half."""

    kid: str
    algorithm: str
    public_key: PublicKey = field(repr=False)
    private_key: PrivateKey | None = field(default=None, repr=False)

    def public_jwk(self) -> dict[str, Any]:
        """The RFC 7517 public JWK: kty, crv, x (y), kid, use "sig", alg."""
        jwk = KINDS[self.algorithm].codec.to_jwk(self.public_key, as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": self.algorithm}

    def private_jwk(self) -> dict[str, Any]:
        """The private JWK (with ``d``): only for writing auth_service's key file."""
        if self.private_key is None:
            raise ValueError("a public key has no private JWK")
        jwk = KINDS[self.algorithm].codec.to_jwk(self.private_key, as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": self.algorithm}

    def verifying_key(self) -> jwt.PyJWK:
        """The public key as PyJWT's prepared key, pinned to this key's algorithm."""
        return jwt.PyJWK(self.public_jwk(), algorithm=self.algorithm)


def _read_set(setting: str, path_text: str) -> list[object]:
    path = Path(path_text)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError:
        raise KeySetError(f"{setting} names a file that can't be read") from None
    if len(raw) > MAX_KEY_FILE_BYTES:
        raise KeySetError(f"{setting} names a file larger than {MAX_KEY_FILE_BYTES} bytes")
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise KeySetError(f"{setting} names a file that is not JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise KeySetError(f'{setting} must name a JWK Set: {{"keys": [...]}}')
    if not document["keys"]:
        raise KeySetError(f"{setting} names a JWK Set with no keys")
    keys: list[object] = document["keys"]
    return keys


def _parse_key(setting: str, index: int, jwk: object, algorithm: str, private: bool) -> AsymmetricKey:
    kind = KINDS[algorithm]
    where = f"{setting}: key {index + 1}"
    if not isinstance(jwk, dict):
        raise KeySetError(f"{where} is not a JSON object")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not KID_SHAPE.fullmatch(kid):
        raise KeySetError(f"{where} needs a kid of 1-64 characters a-z A-Z 0-9 . _ -")
    where = f"{setting}: key {kid!r}"
    if jwk.get("kty") != kind.kty or jwk.get("crv") != kind.crv:
        raise KeySetError(f"{where} is not a {kind.kty} {kind.crv} key, as JWT_ALG={algorithm} needs")
    if jwk.get("alg", algorithm) != algorithm or jwk.get("use", "sig") != "sig":
        raise KeySetError(f"{where} is marked for another use or algorithm than JWT_ALG={algorithm}")
    has_private = bool(PRIVATE_MEMBERS & set(jwk))
    if private and not has_private:
        raise KeySetError(f"{where} has no private part (d)")
    if not private and has_private:
        raise KeySetError(f"{where} holds a private key; this file must hold public keys only")
    try:
        key = kind.codec.from_jwk(jwk)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        raise KeySetError(f"{where} is not a valid {algorithm} JWK") from None
    if private:
        if not isinstance(key, kind.private_type):
            raise KeySetError(f"{where} is not a {algorithm} private key")
        return AsymmetricKey(kid, algorithm, key.public_key(), key)
    if not isinstance(key, kind.public_type):
        raise KeySetError(f"{where} is not a {algorithm} public key")
    return AsymmetricKey(kid, algorithm, key)


def load_key_set(setting: str, path_text: str, algorithm: str, private: bool) -> tuple[AsymmetricKey, ...]:
    """The keys of the JWK Set file ``path_text``, checked for ``algorithm``; else ``KeySetError``."""
    keys = tuple(
        _parse_key(setting, index, jwk, algorithm, private)
        for index, jwk in enumerate(_read_set(setting, path_text))
    )
    if len({key.kid for key in keys}) != len(keys):
        raise KeySetError(f"{setting} has two keys with one kid")
    return keys


def public_key_set(keys: tuple[AsymmetricKey, ...]) -> dict[str, Any]:
    """The public JWK Set of ``keys`` (RFC 7517 section 5)."""
    return {"keys": [key.public_jwk() for key in keys]}


def new_kid(algorithm: str) -> str:
    """A fresh key id: the algorithm, today's date and random hex (``eddsa-20261202-9f3a1c``)."""
    return f"{algorithm.lower()}-{time.strftime('%Y%m%d', time.gmtime())}-{secrets.token_hex(3)}"


def generate_key(algorithm: str, kid: str | None = None) -> AsymmetricKey:
    """A new private key of ``algorithm`` (EdDSA: Ed25519, ES256: P-256), made by ``cryptography``."""
    private_key: PrivateKey
    if algorithm == EDDSA:
        private_key = ed25519.Ed25519PrivateKey.generate()
    elif algorithm == ES256:
        private_key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ValueError(f"no key pair for {algorithm}")
    kid = kid or new_kid(algorithm)
    if not KID_SHAPE.fullmatch(kid):
        raise ValueError("a kid is 1-64 characters a-z A-Z 0-9 . _ -")
    return AsymmetricKey(kid, algorithm, private_key.public_key(), private_key)


def private_key_set(keys: tuple[AsymmetricKey, ...]) -> dict[str, Any]:
    """The private JWK Set of ``keys``, as ``JWT_PRIVATE_KEYS_FILE`` holds it."""
    return {"keys": [key.private_jwk() for key in keys]}


def write_json_file(path: Path, document: dict[str, Any], mode: int) -> None:
    """Write ``document`` to ``path`` with ``mode``, created with it (never briefly world-readable).

    Replacing a file keeps its owner when we may set it (root), so a rotated
    key set stays readable by the service that reads it.
    """
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
    os.chmod(temporary, mode)
    if path.exists() and os.geteuid() == 0:
        owner = path.stat()
        os.chown(temporary, owner.st_uid, owner.st_gid)
    os.replace(temporary, path)


def _algorithm_of(keys: tuple[AsymmetricKey, ...]) -> str:
    return keys[0].algorithm


def _load_any_private(path: str) -> tuple[AsymmetricKey, ...]:
    """A private set of either algorithm (the command line doesn't know JWT_ALG)."""
    problems = []
    for algorithm in ASYMMETRIC_ALGORITHMS:
        try:
            return load_key_set(PRIVATE_KEYS_SETTING, path, algorithm, private=True)
        except KeySetError as exc:
            problems.append(str(exc))
    raise KeySetError(problems[0] if "can't be read" in problems[0] else " / ".join(problems))


def main(argv: list[str] | None = None) -> int:
    """The key command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m authcore.keys", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="print a private JWK Set with one new key")
    generate.add_argument("algorithm", choices=ASYMMETRIC_ALGORITHMS)
    generate.add_argument("--kid")
    public = commands.add_parser("public", help="print the public JWK Set of a private one")
    public.add_argument("file")
    add = commands.add_parser("add", help="append a new verifying key to a private set (rotation step 1)")
    add.add_argument("algorithm", choices=ASYMMETRIC_ALGORITHMS)
    add.add_argument("file")
    add.add_argument("--kid")
    for name, text in (
        ("promote", "sign with KID (rotation step 2)"),
        ("remove", "drop KID (rotation step 3)"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("kid")
        command.add_argument("file")
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            json.dump(private_key_set((generate_key(args.algorithm, args.kid),)), sys.stdout, indent=2)
            print()
            return 0
        keys = _load_any_private(args.file)
        if args.command == "public":
            json.dump(public_key_set(keys), sys.stdout, indent=2)
            print()
            return 0
        if args.command == "add":
            if args.algorithm != _algorithm_of(keys):
                raise KeySetError(f"{args.file} holds {_algorithm_of(keys)} keys, not {args.algorithm}")
            added = generate_key(args.algorithm, args.kid)
            if added.kid in {key.kid for key in keys}:
                raise KeySetError(f"{args.file} already has the kid {added.kid!r}")
            keys = (*keys, added)
        else:
            chosen = [key for key in keys if key.kid == args.kid]
            if not chosen:
                raise KeySetError(f"{args.file} has no key {args.kid!r}")
            rest = tuple(key for key in keys if key.kid != args.kid)
            if args.command == "remove" and not rest:
                raise KeySetError("the last key can't be removed: add and promote another first")
            keys = (*chosen, *rest) if args.command == "promote" else rest
        write_json_file(Path(args.file), private_key_set(keys), 0o600)
        print(" ".join(key.kid for key in keys))
        return 0
    except (KeySetError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
