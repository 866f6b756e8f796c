"""A local stand-in for the Hugging Face Hub's file API, for tests (no network needed).

Point huggingface_hub at it with the ``HF_ENDPOINT`` environment variable (read when huggingface_hub is
imported, so set it for a subprocess, or before the first import)::

    from tests.fakes.hub_server import HubServer

    with HubServer(files={"org/repo": {"model.onnx": b"...", "sub/tags.csv": b"..."}}) as hub:
        # tests/conftest.py sets HF_HUB_OFFLINE=1 for the test process: turn it off for the child.
        env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "HF_HUB_DISABLE_XET": "1"}
        subprocess.run([...], env=env)

Serves ``HEAD``/``GET /{repo_id}/resolve/{revision}/{filename}`` the way hf_hub_download expects:
``X-Repo-Commit``, ``ETag`` and ``X-Linked-Etag`` (the sha256 of the content, as for LFS files),
``X-Linked-Size``, ``Content-Length`` and ``Range`` requests (206 + ``Content-Range``). Also
``GET /api/models/{repo_id}[/revision/{rev}]`` (id, sha, siblings, gated) and ``GET /api/whoami-v2``.
``revision`` may be ``main`` or ``hub.commit``. The write side (``create_repo``, ``upload_file``,
``create_commit`` with LFS) is in ``tests/fakes/hub_uploads.py``: ``writers={"hf_write": "tester"}``
gives a token the right to write to one namespace; uploads land in ``hub.files``, commits in
``hub.commits`` as ``(repo, summary, paths)``, private repos in ``hub.private``.

Switches:
- ``gated={"org/repo"}``: without a token → 401, with a token not in ``tokens`` → 403 (``X-Error-Code:
  GatedRepo``); with a token in ``tokens`` the files are served.
- unknown repo → 404 ``RepoNotFound``; unknown file → 404 ``EntryNotFound``; unknown revision → 404
  ``RevisionNotFound``.
- ``hub.cut_connection("org/repo", "file", after_bytes=N)``: the next GET of that file sends its full
  headers and N body bytes, then drops the connection (``times=`` for more than one).
- ``hub.stall("org/repo", "file", after_bytes=N)``: the next GET of that file sends N body bytes, then
  holds the connection open without sending more until ``hub.release()`` (or the server stops): a
  download caught mid-way, for killing its process.
- ``hub.serve_wrong_bytes("org/repo", "file")``: the body no longer matches the advertised sha256.
- ``hub.requests``: every request seen, as ``Seen(method, path, headers)`` (header names in lower case).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.fakes.hub_uploads import UploadRoutes

DEFAULT_COMMIT = "0123456789abcdef0123456789abcdef01234567"
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_INFO = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+?)(?:/revision/(?P<rev>[^/]+))?$")


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]


class HubServer:
    """A threaded HTTP server on 127.0.0.1 with a free port; use it as a context manager."""

    def __init__(
        self,
        files: Mapping[str, Mapping[str, bytes]],
        *,
        gated: Collection[str] = (),
        tokens: Collection[str] = (),
        commit: str = DEFAULT_COMMIT,
        writers: Mapping[str, str] | None = None,
    ) -> None:
        self.files = {repo: dict(entries) for repo, entries in files.items()}
        self.gated = set(gated)
        self.tokens = set(tokens)
        self.commit = commit
        self.writers = dict(writers or {})
        self.lfs_objects: dict[str, bytes] = {}
        self.commits: list[tuple[str, str, list[str]]] = []
        self.private: dict[str, bool] = {}
        self.requests: list[Seen] = []
        self._cuts: dict[tuple[str, str], list[int]] = {}
        self._wrong: set[tuple[str, str]] = set()
        self._stalls: dict[tuple[str, str], int] = {}
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def cut_connection(self, repo_id: str, filename: str, *, after_bytes: int, times: int = 1) -> None:
        with self._lock:
            self._cuts.setdefault((repo_id, filename), []).extend([after_bytes] * times)

    def stall(self, repo_id: str, filename: str, *, after_bytes: int) -> None:
        with self._lock:
            self._stalls[(repo_id, filename)] = after_bytes
            self._released.clear()

    def release(self) -> None:
        self._released.set()

    def _next_stall(self, repo_id: str, filename: str) -> int | None:
        with self._lock:
            return self._stalls.pop((repo_id, filename), None)

    def serve_wrong_bytes(self, repo_id: str, filename: str) -> None:
        with self._lock:
            self._wrong.add((repo_id, filename))

    def sha256(self, repo_id: str, filename: str) -> str:
        return hashlib.sha256(self.files[repo_id][filename]).hexdigest()

    def _next_cut(self, repo_id: str, filename: str) -> int | None:
        with self._lock:
            pending = self._cuts.get((repo_id, filename))
            return pending.pop(0) if pending else None

    def _is_wrong(self, repo_id: str, filename: str) -> bool:
        with self._lock:
            return (repo_id, filename) in self._wrong


class _Handler(UploadRoutes, BaseHTTPRequestHandler):
    """Serves one request against ``self.hub`` (bound per server by ``_handler_for``)."""

    hub: HubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def do_HEAD(self) -> None:
        self._route(body=False)

    def do_GET(self) -> None:
        self._route(body=True)

    def do_POST(self) -> None:
        self._route(body=True)

    def do_PUT(self) -> None:
        self._route(body=True)

    def _route(self, *, body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        with self.hub._lock:
            self.hub.requests.append(
                Seen(self.command, path, {k.lower(): v for k, v in self.headers.items()})
            )
        if self.command in ("POST", "PUT"):
            if not self.route_upload(path):
                self._error(404, "NotFound", "no such route")
            return None
        if path == "/api/whoami-v2":
            return self._whoami()
        if match := _INFO.match(path):
            return self._info(match["repo"], match["rev"] or "main")
        if match := _RESOLVE.match(path):
            return self._resolve(match["repo"], match["rev"], match["file"], body=body)
        self._error(404, "NotFound", "no such route")

    def _access_error(self, repo: str, rev: str) -> bool:
        if repo not in self.hub.files:
            self._error(404, "RepoNotFound", "Repository not found")
        elif rev not in ("main", self.hub.commit):
            self._error(404, "RevisionNotFound", "Invalid rev id")
        elif repo in self.hub.gated and self._token() not in self.hub.tokens:
            status = 401 if self._token() is None else 403
            self._error(status, "GatedRepo", "Access to this model is restricted")
        else:
            return False
        return True

    def _resolve(self, repo: str, rev: str, filename: str, *, body: bool) -> None:
        if self._access_error(repo, rev):
            return
        content = self.hub.files[repo].get(filename)
        if content is None:
            return self._error(404, "EntryNotFound", "Entry not found")
        etag = f'"{hashlib.sha256(content).hexdigest()}"'
        if self.hub._is_wrong(repo, filename):
            content = bytes(byte ^ 0xFF for byte in content)  # same size, other bytes
        start, status = self._range(len(content))
        if start is None:
            return self._error(
                416,
                "RangeNotSatisfiable",
                "bad range",
                extra={"Content-Range": f"bytes */{len(content)}"},
            )
        part = content[start:]
        self.send_response(status)
        headers = {
            "X-Repo-Commit": self.hub.commit,
            "ETag": etag,
            "X-Linked-Etag": etag,
            "X-Linked-Size": str(len(content)),
            "Content-Length": str(len(part)),
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f'attachment; filename="{filename.rsplit("/", 1)[-1]}"',
        }
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{len(content) - 1}/{len(content)}"
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if not body:
            return
        stall = self.hub._next_stall(repo, filename)
        if stall is not None:
            self.wfile.write(part[:stall])
            self.wfile.flush()
            self.hub._released.wait(timeout=120)
            self.close_connection = True
            return
        cut = self.hub._next_cut(repo, filename)
        if cut is not None:
            self.wfile.write(part[:cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)  # drop it mid-body, as a flaky network does
            return
        self.wfile.write(part)

    def _range(self, size: int) -> tuple[int | None, int]:
        header = self.headers.get("Range")
        if not header:
            return 0, 200
        match = re.match(r"bytes=(\d+)-(\d*)$", header.strip())
        if not match or int(match[1]) >= size:
            return None, 416
        return int(match[1]), 206

    def _info(self, repo: str, rev: str) -> None:
        if self._access_error(repo, rev):
            return
        siblings = [
            {"rfilename": name, "size": len(data)} for name, data in sorted(self.hub.files[repo].items())
        ]
        payload = {
            "id": repo,
            "modelId": repo,
            "sha": self.hub.commit,
            "siblings": siblings,
            "gated": repo in self.hub.gated,
        }
        self._json(200, payload)

    def _whoami(self) -> None:
        token = self._token()
        if token in self.hub.writers:
            return self._json(200, {"type": "user", "name": self.hub.writers[token], "auth": {}})
        if token is None or token not in self.hub.tokens:
            return self._error(401, "Unauthorized", "Invalid credentials in Authorization header")
        self._json(
            200,
            {
                "type": "user",
                "name": "tester",
                "auth": {"accessToken": {"displayName": "test", "role": "read"}},
            },
        )

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth[len("Bearer ") :] if auth.startswith("Bearer ") else None

    def _json(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Repo-Commit", self.hub.commit)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status: int, code: str, message: str, extra: dict[str, str] | None = None) -> None:
        data = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def _handler_for(hub: HubServer) -> type[BaseHTTPRequestHandler]:
    return type("HubHandler", (_Handler,), {"hub": hub})
