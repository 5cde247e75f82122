"""The fake platform's server: `pages` listing pages of `per_page` posts; more than `rate` requests per second from
one client address (a token bucket with a burst of 2) are answered 429, as platforms limit per IP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from demo.content import load_content


class RateLimitedSite:
    def __init__(self, pages: int, per_page: int, rate: float, salt: str) -> None:
        texts = [p["caption"] for p in load_content()["posts"]] + [
            c["text"] for p in load_content()["posts"] for c in p["comments"]
        ]
        self.pages, self.per_page, self.rate, self.salt, self.texts = pages, per_page, rate, salt, texts
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()
        self.served: dict[str, int] = {}
        self.refused = 0

    def allow(self, ip: str) -> bool:
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(ip, (2.0, now))
            tokens = min(2.0, tokens + (now - last) * self.rate)
            if tokens < 1:
                self.buckets[ip] = (tokens, now)
                self.refused += 1
                return False
            self.buckets[ip] = (tokens - 1, now)
            self.served[ip] = self.served.get(ip, 0) + 1
            return True

    def page(self, n: int) -> dict[str, Any]:
        posts = []
        for i in range(self.per_page):
            k = n * self.per_page + i
            posts.append(
                {
                    "id": f"{self.salt}-{k}",
                    "text": self.texts[k % len(self.texts)],
                    "author": f"a{k % 97}",
                    "published_at": "2026-11-01T08:00:00+00:00",
                }
            )
        return {"posts": posts}


@contextmanager
def serve_site(site: RateLimitedSite) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if not site.allow(self.client_address[0]):
                self.send_response(429)
                self.send_header("Retry-After", "1")
                self.end_headers()
                return
            if self.path == "/index":
                body = {"pages": list(range(site.pages))}
            elif self.path.startswith("/page/"):
                body = site.page(int(self.path.rsplit("/", 1)[1]))
            else:
                self.send_response(404)
                self.end_headers()
                return
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
