"""The write side of the stand-in Hub (``tests/fakes/hub_server.py``): what ``create_repo`` and
``upload_file``/``create_commit`` of huggingface_hub 2.4.0 call, with the plain LFS protocol (set
``HF_HUB_DISABLE_XET=1`` in the client, as the read side needs too):

- ``POST /api/repos/create`` {name, organization, visibility}: 201 {url}; 409 {url} when it exists.
- ``POST /api/validate-yaml``: always valid (a model card README is checked with it first).
- ``POST /api/models/{repo}/preupload/{rev}`` {files: [{path, sample, size}]}: ``lfs`` for weights
  (``.safetensors``, ``.bin``, ``.ckpt``, ``.pt``) and files over 10 MB, else ``regular``.
- ``POST /{repo}.git/info/lfs/objects/batch``: a ``basic`` upload action (PUT to ``/lfs-upload/{oid}``)
  and a verify action (POST ``/lfs-verify/{oid}``); ``actions`` is left out for an object held already.
- ``PUT /lfs-upload/{oid}``: stores the bytes when their sha256 is the oid (400 otherwise).
- ``POST /api/models/{repo}/commit/{rev}`` (NDJSON: header, ``file`` base64, ``lfsFile`` by oid):
  the files land in ``hub.files[repo]``; 200 {commitUrl, commitOid}.

Writes need a token in ``writers`` (token → the one namespace it may write to): none or an unknown
one → 401; a read-only token (in ``tokens``) or a namespace that is not the token's → 403.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.hub_server import HubServer

_CREATE = "/api/repos/create"
_PREUPLOAD = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/preupload/(?P<rev>[^/]+)$")
_COMMIT = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/commit/(?P<rev>[^/]+)$")
_BATCH = re.compile(r"^/(?P<repo>[^/]+/[^/]+)\.git/info/lfs/objects/batch$")
_LFS = re.compile(r"^/lfs-(?P<what>upload|verify)/(?P<oid>[0-9a-f]{64})$")
_LFS_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".pt")


class UploadRoutes:
    """Mixed into the stand-in's request handler; ``_json``/``_error``/``_token`` come from it."""

    hub: HubServer
    headers: Any
    rfile: Any
    command: str

    def _json(self, status: int, payload: object) -> None:
        raise NotImplementedError

    def _error(self, status: int, code: str, message: str, extra: dict[str, str] | None = None) -> None:
        raise NotImplementedError

    def _token(self) -> str | None:
        raise NotImplementedError

    def route_upload(self, path: str) -> bool:
        """Serve ``path`` when it is a write route; False when it is not one."""
        body = self._body()
        if self.command == "POST" and path == "/api/validate-yaml":
            self._json(200, {"errors": [], "warnings": []})
        elif self.command == "POST" and path == _CREATE:
            self._create(json.loads(body))
        elif (match := _LFS.match(path)) and self.command in ("PUT", "POST"):
            self._lfs(match["what"], match["oid"], body)
        elif self.command == "POST" and (match := _PREUPLOAD.match(path) or _BATCH.match(path)):
            if self._writable(match["repo"]):
                self._preupload(json.loads(body)) if "preupload" in path else self._batch(json.loads(body))
        elif self.command == "POST" and (match := _COMMIT.match(path)):
            if self._writable(match["repo"]):
                self._commit(match["repo"], body)
        else:
            return False
        return True

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while size := int(self.rfile.readline().strip().split(b";")[0], 16):
                data += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return data
        return bytes(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _may_write(self, namespace: str) -> bool:
        token = self._token()
        if token is None or (token not in self.hub.writers and token not in self.hub.tokens):
            self._error(401, "Unauthorized", "Invalid credentials in Authorization header")
            return False
        if self.hub.writers.get(token) != namespace:  # a read-only token, or another namespace
            self._error(403, "Forbidden", f"You don't have the rights to write to {namespace}")
            return False
        return True

    def _writable(self, repo: str) -> bool:
        if not self._may_write(repo.split("/")[0]):
            return False
        if repo not in self.hub.files:
            self._error(404, "RepoNotFound", "Repository not found")
            return False
        return True

    def _create(self, payload: dict[str, Any]) -> None:
        token = self._token()
        namespace = payload.get("organization") or self.hub.writers.get(token or "", "")
        repo = f"{namespace}/{payload['name']}"
        if not self._may_write(namespace):
            return
        url = f"{self.hub.url}/{repo}"
        if repo in self.hub.files:
            return self._json(409, {"error": "You already created this model repo", "url": url})
        with self.hub._lock:
            self.hub.files[repo] = {}
            self.hub.private[repo] = payload.get("visibility") == "private"
        self._json(200, {"url": url, "name": repo})

    def _preupload(self, payload: dict[str, Any]) -> None:
        files = [
            {
                "path": entry["path"],
                "uploadMode": "lfs"
                if entry["path"].endswith(_LFS_SUFFIXES) or entry["size"] > 10_000_000
                else "regular",
                "shouldIgnore": False,
            }
            for entry in payload["files"]
        ]
        self._json(200, {"files": files})

    def _batch(self, payload: dict[str, Any]) -> None:
        objects = []
        for entry in payload["objects"]:
            answer: dict[str, Any] = {"oid": entry["oid"], "size": entry["size"]}
            if entry["oid"] not in self.hub.lfs_objects:
                answer["actions"] = {
                    "upload": {"href": f"{self.hub.url}/lfs-upload/{entry['oid']}"},
                    "verify": {"href": f"{self.hub.url}/lfs-verify/{entry['oid']}"},
                }
            objects.append(answer)
        self._json(200, {"transfer": "basic", "objects": objects})

    def _lfs(self, what: str, oid: str, body: bytes) -> None:
        if what == "verify":
            held = oid in self.hub.lfs_objects
            return self._json(200, {}) if held else self._error(404, "NotFound", "object not uploaded")
        if hashlib.sha256(body).hexdigest() != oid:
            return self._error(400, "BadRequest", "the content does not match the oid")
        with self.hub._lock:
            self.hub.lfs_objects[oid] = body
        self._json(200, {})

    def _commit(self, repo: str, body: bytes) -> None:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        added: dict[str, bytes] = {}
        for line in lines:
            value = line["value"]
            if line["key"] == "file":
                added[value["path"]] = base64.b64decode(value["content"])
            elif line["key"] == "lfsFile":
                if value["oid"] not in self.hub.lfs_objects:
                    return self._error(400, "BadRequest", f"LFS object {value['oid']} was not uploaded")
                added[value["path"]] = self.hub.lfs_objects[value["oid"]]
        oid = hashlib.sha1(body).hexdigest()
        with self.hub._lock:
            self.hub.files[repo].update(added)
            self.hub.commits.append((repo, lines[0]["value"]["summary"], sorted(added)))
        self._json(200, {"commitUrl": f"{self.hub.url}/{repo}/commit/{oid}", "commitOid": oid})
