"""A benchmark of a few tiny files, written here, pinned by a manifest written here, and
served by a local HTTP server in place of the benchmarks' repositories."""

import functools
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from samg.benchmark import assets, manifest
from samg.benchmark.manifest import AssetFile, git_blob_sha1

GOOD, TAMPERED, ABSENT = "tiny/good.bin", "tiny/tampered.bin", "tiny/absent.bin"
PINNED = {GOOD: b"the pinned bytes\n", TAMPERED: b"other pinned bytes\n", ABSENT: b"bytes nobody serves\n"}
SERVED = {GOOD: PINNED[GOOD], TAMPERED: b"<html>an error page</html>\n"}  # ABSENT: 404


class Server:
    """A local HTTP server over `directory`, recording the paths asked for."""

    def __init__(self, directory: Path):
        self.requested: list[str] = []
        requested = self.requested

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self):
                requested.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
        self.port = self._server.server_port
        self._running = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """From now on the host is unreachable (connection refused)."""
        if self._running:
            self._server.shutdown()
            self._server.server_close()
            self._running = False


def tiny_manifest(names) -> dict[str, AssetFile]:
    return {
        name: AssetFile(name, "owner/repo", "0" * 40, name, git_blob_sha1(PINNED[name]), len(PINNED[name]),
                        hashlib.sha256(PINNED[name]).hexdigest())  # fmt: skip
        for name in names
    }


@contextmanager
def tiny_benchmark(directory: Path, monkeypatch: pytest.MonkeyPatch, names=tuple(PINNED)) -> Iterator[Server]:
    """`samg.benchmark`'s manifest replaced by one of `names`, their URLs on a local server
    that serves SERVED from `directory`."""
    for name, data in SERVED.items():
        path = directory / "owner/repo" / ("0" * 40) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    server = Server(directory)
    monkeypatch.setenv("no_proxy", "127.0.0.1")  # urllib would send even a local URL through a proxy
    monkeypatch.setattr(manifest, "RAW_URL", f"http://127.0.0.1:{server.port}/{{repository}}/{{commit}}/{{path}}")
    monkeypatch.setattr(assets, "MANIFEST", tiny_manifest(names))
    try:
        yield server
    finally:
        server.stop()
