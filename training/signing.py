"""Signing saved models, so that a server loads only models this deployment's trainer produced.

The sha256 recorded beside an export proves the joblib file is the one the metadata names, but
anyone who can write one file can write both: it proves integrity, not authenticity. A model file
is code (unpickling runs whatever it holds), so with ``CLAIMRISK_MODEL_SIGNING_KEY`` set the trainer
writes an HMAC-SHA256 over every file a loader will deserialise plus the model's name and version,
and every load path checks it BEFORE anything is unpickled.

The MAC input is length-framed: each field is its 8-byte big-endian length followed by its bytes,
so no boundary can move (a name "ab" + version "c" can never sign the same bytes as "a" + "bc",
nor can bytes slide from one file's content into the next file's name). The file list is part of
the MAC and a directory must hold exactly the signed files: a planted extra file (say a module a
loader would import) fails the check as surely as a swapped one. The name and version are part of
the MAC and checked against what the caller asked for, so one version's signature cannot vouch for
another version's files (no replay of an older, weaker model under a new version number).

This module is the bottom of the signing story (no pickle, no MLflow): ``training.export`` and
``training.registry`` sign, ``serving.model_store`` verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

SIGNING_KEY_ENV = "CLAIMRISK_MODEL_SIGNING_KEY"
SIGNATURE_FILE = "claimrisk.sig"
# A version tag on the MLflow model version holds the manifest of the registry path: the version
# number is only known once MLflow has registered it, and the tag lives beside the version it signs.
SIGNATURE_TAG = "claimrisk_signature"
_DOMAIN = b"claimrisk-model-signature-v1"


class SignatureError(Exception):
    """A model's signature is missing, malformed, or does not match its files, name or version.

    Raised before anything is deserialised; serving refuses the model (503 ``model_invalid``) and
    on a reload keeps the model it already serves.
    """


def signing_key(environ: Mapping[str, str] | None = None) -> bytes | None:
    """The deployment's signing key from ``CLAIMRISK_MODEL_SIGNING_KEY``, or None when unset/empty."""
    value = (environ if environ is not None else os.environ).get(SIGNING_KEY_ENV, "")
    return value.encode("utf-8") if value else None


def _frame(value: bytes) -> bytes:
    return len(value).to_bytes(8, "big") + value


def compute_mac(key: bytes, *, name: str, version: str, files: Mapping[str, bytes]) -> str:
    """HMAC-SHA256 (hex) over the domain tag, name, version and every (relative path, content) pair.

    Paths are taken in sorted order so the MAC does not depend on directory listing order; each
    content enters as its own sha256 (framed like every other field) so a large model is hashed
    once, streaming-free, without holding a second copy in the MAC buffer.
    """
    mac = hmac.new(key, digestmod=hashlib.sha256)
    mac.update(_frame(_DOMAIN))
    mac.update(_frame(name.encode("utf-8")))
    mac.update(_frame(version.encode("utf-8")))
    mac.update(len(files).to_bytes(8, "big"))
    for relative in sorted(files):
        mac.update(_frame(relative.encode("utf-8")))
        mac.update(_frame(hashlib.sha256(files[relative]).digest()))
    return mac.hexdigest()


@dataclass(frozen=True)
class SignedManifest:
    """What a signature says: which model (name, version), which files, and the MAC over them."""

    name: str
    version: str
    files: tuple[str, ...]
    mac: str

    def to_json(self) -> str:
        return json.dumps(
            {"name": self.name, "version": self.version, "files": list(self.files), "hmac": self.mac},
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> SignedManifest:
        try:
            data = json.loads(text)
            files = data["files"]
            if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
                raise TypeError("files is not a list of paths")
            return cls(str(data["name"]), str(data["version"]), tuple(files), str(data["hmac"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise SignatureError(f"the model signature is malformed ({type(exc).__name__})") from exc


def directory_files(directory: Path) -> list[str]:
    """Every regular file under ``directory`` (relative POSIX paths), the signature file excluded."""
    return sorted(
        path.relative_to(directory).as_posix()
        for path in directory.rglob("*")
        if path.is_file() and path.name != SIGNATURE_FILE
    )


def _read_files(directory: Path, relatives: Iterable[str]) -> dict[str, bytes]:
    contents: dict[str, bytes] = {}
    for relative in relatives:
        path = directory / relative
        if ".." in Path(relative).parts or Path(relative).is_absolute() or not path.is_file():
            raise SignatureError(f"signed file {relative!r} is missing from the model")
        contents[relative] = path.read_bytes()
    return contents


def sign_directory(
    directory: Path, *, name: str, version: str, key: bytes, files: Iterable[str] | None = None
) -> SignedManifest:
    """Sign ``files`` (default: every file in ``directory``) as model ``name`` version ``version``."""
    relatives = sorted(files) if files is not None else directory_files(directory)
    mac = compute_mac(key, name=name, version=version, files=_read_files(directory, relatives))
    return SignedManifest(name=name, version=version, files=tuple(relatives), mac=mac)


def write_manifest(directory: Path, manifest: SignedManifest) -> Path:
    """Write ``claimrisk.sig`` into ``directory`` atomically (temporary file, then rename)."""
    target = directory / SIGNATURE_FILE
    tmp = directory / f".{SIGNATURE_FILE}.tmp"
    tmp.write_text(manifest.to_json(), encoding="utf-8")
    os.replace(tmp, target)
    return target


def read_manifest(directory: Path) -> SignedManifest:
    """The manifest in ``directory``; SignatureError when there is none (a key is set, so one is due)."""
    path = directory / SIGNATURE_FILE
    if not path.is_file():
        raise SignatureError(
            f"the model in {directory} is not signed, and {SIGNING_KEY_ENV} is set: refusing to load it"
        )
    return SignedManifest.from_json(path.read_text(encoding="utf-8"))


def verify_directory(
    directory: Path,
    manifest: SignedManifest,
    *,
    name: str | None,
    version: str | None,
    key: bytes,
    exact: bool,
    required: Iterable[str] = (),
) -> dict[str, bytes]:
    """Check ``manifest`` against the files on disk; return the verified bytes of the signed files.

    ``name``/``version`` (when given) must be the ones signed. ``exact`` demands the directory holds
    no file the manifest does not list (a downloaded registry model: every file there may be
    loaded); ``required`` names files that must be covered (the export's joblib). Callers
    deserialise the returned bytes, never a second read of the file, so nothing can be swapped
    between the check and the load.
    """
    if name is not None and manifest.name != name:
        raise SignatureError(f"the signature is for model {manifest.name!r}, not {name!r}")
    if version is not None and manifest.version != str(version):
        raise SignatureError(f"the signature is for version {manifest.version!r}, not {version!r}")
    missing = sorted(set(required) - set(manifest.files))
    if missing:
        raise SignatureError(f"the signature does not cover {', '.join(missing)}")
    if exact:
        unsigned = sorted(set(directory_files(directory)) - set(manifest.files))
        if unsigned:
            raise SignatureError(f"the model holds files the signature does not cover: {', '.join(unsigned)}")
    contents = _read_files(directory, manifest.files)
    expected = compute_mac(key, name=manifest.name, version=manifest.version, files=contents)
    if not hmac.compare_digest(expected, manifest.mac):
        raise SignatureError("the model's signature does not match its files: refusing to load it")
    return contents
