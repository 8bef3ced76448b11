"""A workload that gets secrets in its environment and prints them, as careless apps do.

At start it prints ``secret=<$SECRET_VAR's value>`` on stdout, the same inside a sentence and
twice on one line, and ``token=<$DATAROBOT_API_TOKEN>`` on stderr; each request prints the
secret again. It serves ``$PORT``: ``GET /`` answers with SHA-256 hashes of the values (never the
values), ``DATAROBOT_ENDPOINT`` as it is, and ``GET /readyz`` ``200``. ``$SECRET_VAR`` names the
variable that holds the secret (default ``GH_TOKEN``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


def digest(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else hashlib.sha256(value.encode()).hexdigest()


SECRET_VAR = os.environ.get("SECRET_VAR", "GH_TOKEN")
SECRET = os.environ.get(SECRET_VAR, "")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        print(f"request {self.path}: secret={SECRET}", flush=True)
        if self.path == "/readyz":
            body = b"ready"
        else:
            answer = {
                "secretSha256": digest(SECRET_VAR),
                "tokenSha256": digest("DATAROBOT_API_TOKEN"),
                "endpoint": os.environ.get("DATAROBOT_ENDPOINT"),
            }
            body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the app prints its own lines."""


def main() -> None:
    print(f"secret={SECRET}", flush=True)
    print(f"the secret is {SECRET}, twice: {SECRET}{SECRET}", flush=True)
    print(f"token={os.environ.get('DATAROBOT_API_TOKEN')}", file=sys.stderr, flush=True)
    server = HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
