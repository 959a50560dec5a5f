"""A real HTTP server on 127.0.0.1 standing in for the download site, with scripted faults.

    with SourceServer(root) as server:
        server.script("/yellow/yellow_tripdata_2021-01.csv.gz", [503, 503])  # then the file
        url_template = server.url + "/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz"

Faults, consumed in order per path: an int is answered as that HTTP status; "reset" sends the
headers and half the body, then closes the connection; "truncate" sends a body cut in half
with a matching Content-Length (a truncated file that looks whole); "html" sends an HTML error
page with status 200; "stall" sends the headers and half the body, then waits (at most
`stall_seconds`, or until `release()`) before the rest. A path with no file is answered `missing_status` (404; 403 is what
CloudFront in front of the TLC's bucket answers, to HEAD and GET alike). Files are served with ETag (answering If-None-Match with 304),
Last-Modified, HEAD and single Range support. POSTs (webhooks) are recorded in `posts`.

In a container (the deployment test runs it as a Compose service; stdlib only):

    python3 http_source.py ROOT PORT        serves ROOT on 0.0.0.0:PORT (the container's own network)

with `control=True`: the test scripts faults and reads counts over HTTP under /_control/
(`RemoteSource` is the client, with the same script / count / release methods).
"""

from __future__ import annotations

import collections
import email.utils
import hashlib
import http.server
import json
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path


class SourceServer:
    def __init__(self, root: Path, missing_status: int = 404, host: str = "127.0.0.1", port: int = 0,
                 control: bool = False):
        self.root = Path(root)
        self.missing_status = missing_status
        self.faults: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_HEAD(self):
                outer._serve(self, head=True)

            def do_GET(self):
                if control and self.path.startswith("/_control/"):
                    return outer._control(self, b"")
                outer._serve(self, head=False)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                if control and self.path.startswith("/_control/"):
                    return outer._control(self, body)
                with outer._lock:
                    outer.requests.append(("POST", self.path))
                    outer.posts.append((self.path, body))
                status = outer._next_fault(self.path)
                code = status if isinstance(status, int) else 200
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.posts: list[tuple[str, bytes]] = []
        self.stall_seconds = 120.0
        self._released = threading.Event()
        self.httpd = http.server.ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> SourceServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def script(self, path: str, faults: list) -> None:
        """Answer the next requests for `path` with these faults, then normally."""
        with self._lock:
            self.faults[path].extend(faults)

    def release(self) -> None:
        """Ends every stalled response now."""
        self._released.set()

    def count(self, path: str, method: str = "GET") -> int:
        with self._lock:
            return sum(1 for m, p in self.requests if p == path and m == method)

    def _control(self, h: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
        """/_control/script (POST {"path", "faults"}), /_control/release (POST), /_control/count?path=&method=."""
        url = urllib.parse.urlsplit(h.path)
        if url.path == "/_control/script":
            args = json.loads(body)
            self.script(args["path"], args["faults"])
            answer = {}
        elif url.path == "/_control/release":
            self.release()
            answer = {}
        elif url.path == "/_control/count":
            q = dict(urllib.parse.parse_qsl(url.query))
            answer = {"count": self.count(q["path"], q.get("method", "GET"))}
        else:
            h.send_error(404)
            return
        data = json.dumps(answer).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _next_fault(self, path: str):
        with self._lock:
            q = self.faults.get(path)
            return q.popleft() if q else None

    def _serve(self, h: http.server.BaseHTTPRequestHandler, head: bool) -> None:
        with self._lock:
            self.requests.append(("HEAD" if head else "GET", h.path))
        fault = self._next_fault(h.path)
        if isinstance(fault, int):
            body = f"status {fault}".encode()
            h.send_response(fault)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if not head:
                h.wfile.write(body)
            return
        if fault == "html":
            body = b"<!DOCTYPE html><html><body>Rate limit exceeded</body></html>"
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if not head:
                h.wfile.write(body)
            return
        file = (self.root / h.path.split("?", 1)[0].lstrip("/")).resolve()
        if not file.is_file() or self.root.resolve() not in file.parents:
            body = b"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>" if self.missing_status == 403 else b"not found"
            h.send_response(self.missing_status)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if not head:
                h.wfile.write(body)
            return
        data = file.read_bytes()
        if fault == "truncate":
            data = data[: len(data) // 2]
        stat = file.stat()
        etag = '"' + hashlib.md5(data).hexdigest() + '"'
        if h.headers.get("If-None-Match") == etag and fault is None:
            h.send_response(304)
            h.send_header("ETag", etag)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        status, start, end = 200, 0, len(data)
        rng = h.headers.get("Range")
        if rng and rng.startswith("bytes=") and fault is None:
            a, _, b = rng[6:].partition("-")
            start, end = int(a or 0), min(int(b) + 1 if b else len(data), len(data))
            status = 206
        h.send_response(status)
        h.send_header("Content-Length", str(end - start))
        h.send_header("ETag", etag)
        h.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
        if status == 206:
            h.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        h.end_headers()
        if head:
            return
        if fault == "reset":
            h.wfile.write(data[start : (start + end) // 2])
            h.wfile.flush()
            h.close_connection = True
            h.connection.shutdown(2)
            return
        if fault == "stall":
            half = (start + end) // 2
            h.wfile.write(data[start:half])
            h.wfile.flush()
            self._released.wait(self.stall_seconds)  # a bounded wait: the client is killed meanwhile
            start = half
        h.wfile.write(data[start:end])


class RemoteSource:
    """The client of a SourceServer started with `control=True` elsewhere (in a container)."""

    def __init__(self, control_url: str):
        self.control_url = control_url.rstrip("/")

    def _call(self, what: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        with urllib.request.urlopen(f"{self.control_url}/_control/{what}", data=data, timeout=10) as r:
            return json.loads(r.read())

    def script(self, path: str, faults: list) -> None:
        self._call("script", {"path": path, "faults": faults})

    def release(self) -> None:
        self._call("release", {})

    def count(self, path: str, method: str = "GET") -> int:
        return self._call("count?" + urllib.parse.urlencode({"path": path, "method": method}))["count"]


if __name__ == "__main__":
    server = SourceServer(Path(sys.argv[1]), host="0.0.0.0", port=int(sys.argv[2]), control=True)
    print(f"serving {sys.argv[1]} on port {sys.argv[2]}", flush=True)
    server.httpd.serve_forever(poll_interval=0.05)
