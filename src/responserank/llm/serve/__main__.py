"""``python -m responserank.llm.serve --model-dir PATH [--port 8000] ...``: start the server.

Prints ``serving <model dir> on http://<host>:<port>`` once the model is loaded and the port is
bound (with ``--port 0`` the line names the port picked), then serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

import uvicorn

from responserank.cli_errors import exit_on_project_error
from responserank.errors import ConfigError
from responserank.llm.serve.app import create_app
from responserank.llm.serve.service import RewardService
from responserank.llm.serve.settings import parse_settings


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; ConfigError when it cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ConfigError(
            f"--host {host} --port {port}: cannot listen ({error.strerror})"
        ) from error
    return sock


def main(argv: Sequence[str] | None = None) -> None:
    with exit_on_project_error():
        settings = parse_settings(argv)
        service = RewardService.load(settings)
        sock = bind(settings.host, settings.port)
    host, port = sock.getsockname()[:2]
    print(f"serving {settings.model_dir} on http://{host}:{port}", flush=True)
    config = uvicorn.Config(create_app(service), log_level=settings.log_level)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
