"""The bundled demo site: a small threaded HTTP server over demo/content/posts.json.

Pages are empty shells; captions, comments and profiles appear only after the JavaScript in demo/static/app.js
fetches the JSON API and the visitor scrolls, like the real platforms. Ground-truth labels never leave the server.

    with serve_demo() as base_url:   # "http://127.0.0.1:<port>"
        ...

Manual use: .venv/bin/python -m demo.server --port 8000
"""

from __future__ import annotations

import argparse
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from demo.content import CONTENT_PATH, load_content

STATIC = Path(__file__).resolve().parent / "static"
FEED_PAGE_SIZE = 12
COMMENT_PAGE_SIZE = 3
_HIDDEN = {"label", "category", "voice", "image_text"}  # ground truth stays on the server

_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css"}


class DemoSite:
    """Indexes the data file once; every handler thread reads it, nobody writes."""

    def __init__(self, content_path: Path = CONTENT_PATH, taken_down: set[str] | None = None) -> None:
        data = load_content(content_path)
        self.posts: list[dict[str, Any]] = data["posts"]
        # Post ids the "platform" has taken down: their pages answer 404, as a takedown re-check expects.
        self.taken_down = taken_down if taken_down is not None else set()
        self.by_id = {p["id"]: p for p in self.posts}
        self.authors = {a["id"]: a for a in data["authors"]}
        self.posts_by_author: dict[str, list[dict[str, Any]]] = {}
        for p in self.posts:
            self.posts_by_author.setdefault(p["author_id"], []).append(p)

    def _author(self, author_id: str) -> dict[str, Any]:
        a = self.authors[author_id]
        return {"id": a["id"], "name": a["name"]}

    def feed(self, cursor: int, count: int) -> dict[str, Any]:
        page = self.posts[cursor : cursor + count]
        items = [
            {
                "id": p["id"],
                "caption": p["caption"][:60],
                "author": self._author(p["author_id"]),
                "likes": p["likes"],
                "published_at": p["published_at"],
            }
            for p in page
        ]
        nxt = cursor + len(page)
        return {"items": items, "cursor": nxt, "has_more": nxt < len(self.posts)}

    def post(self, post_id: str) -> dict[str, Any] | None:
        p = self.by_id.get(post_id)
        if p is None:
            return None
        public = {k: v for k, v in p.items() if k not in _HIDDEN and k != "comments"}
        public["author"] = self._author(p["author_id"])
        public["comment_count"] = len(p["comments"])
        return public

    def comments(self, post_id: str, cursor: int) -> dict[str, Any] | None:
        p = self.by_id.get(post_id)
        if p is None:
            return None
        page = p["comments"][cursor : cursor + COMMENT_PAGE_SIZE]
        nxt = cursor + len(page)
        return {
            "comments": [{k: v for k, v in c.items() if k not in _HIDDEN} for c in page],
            "cursor": nxt,
            "has_more": nxt < len(p["comments"]),
        }

    def user(self, author_id: str) -> dict[str, Any] | None:
        a = self.authors.get(author_id)
        if a is None:
            return None
        posts = self.posts_by_author.get(author_id, [])
        return {
            "id": a["id"],
            "name": a["name"],
            "bio": a["bio"],
            "followers": a["followers"],
            "posts": [{"id": p["id"], "caption": p["caption"][:40], "published_at": p["published_at"]} for p in posts],
        }


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: crawls would drown in access logs
        return

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, payload: Any) -> None:
        if payload is None:
            self._send(404, b'{"error":"not found"}', "application/json")
        else:
            self._send(200, json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

    def _static(self, name: str) -> None:
        path = STATIC / name
        if not path.is_file() or path.parent != STATIC:
            self._send(404, b"not found", "text/plain")
            return
        self._send(200, path.read_bytes(), _TYPES.get(path.suffix, "application/octet-stream"))

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        site = self.server.site
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)

        def qint(name: str, default: int) -> int:
            try:
                return max(0, int(query.get(name, [default])[0]))
            except ValueError:
                return default

        if path in ("/", "/feed"):
            return self._static("feed.html")
        if path.startswith("/static/"):
            return self._static(path.removeprefix("/static/"))
        if (m := re.fullmatch(r"/(?:video|api/post)/(\d+)(?:/comments)?", path)) and m[1] in site.taken_down:
            return self._send(404, b"not found", "text/plain")
        if m := re.fullmatch(r"/video/(\d+)", path):
            return self._static("video.html") if m[1] in site.by_id else self._send(404, b"not found", "text/plain")
        if m := re.fullmatch(r"/user/(\d+)", path):
            return self._static("user.html") if m[1] in site.authors else self._send(404, b"not found", "text/plain")
        if path == "/api/feed":
            return self._json(site.feed(qint("cursor", 0), min(qint("count", FEED_PAGE_SIZE), 50) or FEED_PAGE_SIZE))
        if m := re.fullmatch(r"/api/post/(\d+)", path):
            return self._json(site.post(m[1]))
        if m := re.fullmatch(r"/api/post/(\d+)/comments", path):
            return self._json(site.comments(m[1], qint("cursor", 0)))
        if m := re.fullmatch(r"/api/user/(\d+)", path):
            return self._json(site.user(m[1]))
        if path == "/favicon.ico":
            return self._send(204, b"", "image/x-icon")
        return self._send(404, b"not found", "text/plain")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], site: DemoSite) -> None:
        self.site = site
        super().__init__(addr, _Handler)


@contextmanager
def serve_demo(
    host: str = "127.0.0.1", port: int = 0, content_path: Path = CONTENT_PATH, taken_down: set[str] | None = None
) -> Iterator[str]:
    """Serve the demo site in a background thread; yields its base URL (no trailing slash).

    `taken_down` is shared, not copied: adding a post id to it later takes that post down (tests of re-checks).
    """
    server = _Server((host, port), DemoSite(content_path, taken_down))
    thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the Qingyuan demo site.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    with serve_demo(args.host, args.port) as url:
        print(f"demo site at {url}/ (Ctrl-C to stop)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
