"""Closed by default: where tandem's processes listen, who may call them, who may read var/.

- Every server binds ``TANDEM_BIND_HOST`` (default 127.0.0.1): reaching it from another
  machine is a deliberate choice of the deployer, made once, for all of them.
- Browsers may call Rasa only from ``TANDEM_CORS_ORIGINS`` (space- or comma-separated;
  default the local handoff console's origin), never from any origin.
- The action server answers only calls carrying the shared token in
  :data:`ACTION_TOKEN_HEADER` (bot/action_server.py); Rasa sends it from endpoints.yml.
- Secrets travel by environment or file, never on a command line (``ps`` shows those).
- State under var/ (SQLite stores, tokens, logs) is the owner's alone: children start with
  umask 077, and what an earlier run left readable is tightened at start.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO, Any, Mapping
from urllib.parse import urlsplit

DEFAULT_BIND_HOST = "127.0.0.1"
#: the header carrying the action server's shared token (a header, not a query parameter,
#: so it never appears in an access log line)
ACTION_TOKEN_HEADER = "X-Tandem-Action-Token"
#: files and directories a tandem process creates: readable by its user only
PRIVATE_UMASK = 0o077


def bind_host(env: Mapping[str, str] | None = None) -> str:
    """The interface every tandem server listens on."""
    env = os.environ if env is None else env
    return env.get("TANDEM_BIND_HOST") or DEFAULT_BIND_HOST


def cors_origins(default_origin_url: str, env: Mapping[str, str] | None = None) -> list[str]:
    """Origins browsers may call Rasa from: ``TANDEM_CORS_ORIGINS`` or the console's origin."""
    env = os.environ if env is None else env
    raw = env.get("TANDEM_CORS_ORIGINS")
    if raw:
        return [origin for origin in raw.replace(",", " ").split() if origin]
    parts = urlsplit(default_origin_url)
    return [f"{parts.scheme}://{parts.netloc}"]


def secure_state_dir(var_dir: Path) -> None:
    """Make ``var_dir`` private: the directory 0700, every file in it 0600, subdirectories 0700.

    New files are private because the processes start with :data:`PRIVATE_UMASK`; this
    tightens what was made before (an older checkout, another tool).
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    var_dir.chmod(0o700)
    for path in var_dir.rglob("*"):
        try:
            mode = path.lstat().st_mode
            if stat.S_ISDIR(mode):
                path.chmod(0o700)
            elif stat.S_ISREG(mode) and stat.S_IMODE(mode) & 0o077:
                path.chmod(stat.S_IMODE(mode) & 0o700)
        except FileNotFoundError:
            continue  # removed while we walked (a SQLite journal)


def open_private(path: Path, mode: str = "ab") -> IO[Any]:
    """``open(path, mode)`` for a file that must be 0600 from its creation (logs, exports)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    return os.fdopen(fd, mode)
