"""Measurements for ``eval-nlu`` that need a process of their own: the Rasa server's
resident memory with the model loaded, and how long ``rasa train`` takes."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bot.settings import ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def server_rss_mb(model: Path, timeout: float = 300.0) -> float:
    """Start the Rasa server as ``make run`` does (bot.rasa_server, loopback), parse one
    message through its HTTP API, and return its resident set size in MB."""
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    cmd = [sys.executable, "-m", "bot.rasa_server", "run", "--enable-api", "--model", str(model),
           "--port", str(port), "--interface", "127.0.0.1"]
    with tempfile.TemporaryDirectory() as tmp:
        process = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + timeout
            body = json.dumps({"text": "where is my refund of $40?"}).encode()
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"rasa server exited with {process.returncode}")
                if time.monotonic() > deadline:
                    raise RuntimeError("rasa server did not answer in time")
                try:
                    request = urllib.request.Request(
                        f"http://127.0.0.1:{port}/model/parse", data=body,
                        headers={"Content-Type": "application/json"},
                    )
                    with urllib.request.urlopen(request, timeout=30) as response:
                        if response.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    time.sleep(1.0)
            return _rss_kb(process.pid) / 1024.0
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _train(project: Path, out: Path, cache: Path) -> float:
    env = dict(
        os.environ, RASA_CACHE_DIRECTORY=str(cache), TANDEM_NLU_CACHE=str(cache / "nlu"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    cmd = [str(Path(sys.executable).with_name("rasa")), "train", "--config", str(project / "config.yml"),
           "--domain", str(project / "domain"), "--data", str(project / "data"), "--out", str(out)]
    started = time.monotonic()
    subprocess.run(cmd, cwd=project, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def training_seconds() -> dict[str, float]:
    """Wall time of ``rasa train`` on a copy of the project: from scratch (empty Rasa cache
    and empty sentence-embedding cache, as on a fresh clone after ``make install``), then
    again after adding one NLU example (Rasa re-uses what did not change)."""
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        shutil.copy(ROOT / "config.yml", project / "config.yml")
        shutil.copytree(ROOT / "domain", project / "domain")
        shutil.copytree(ROOT / "data", project / "data")
        out, cache = Path(tmp) / "models", Path(tmp) / "cache"
        scratch = _train(project, out, cache)
        (project / "data" / "nlu" / "zz_measure.yml").write_text(
            'version: "3.1"\nnlu:\n- intent: track_order\n  examples: |\n    - any news about the parcel i ordered on monday\n'
        )
        nlu_changed = _train(project, out, cache)
    return {"from_scratch": round(scratch, 1), "nlu_examples_changed": round(nlu_changed, 1)}
