"""Train the assistant only when something it is trained from has changed.

The model file is named after a hash of everything that shapes it (config,
domain, training data, and our own NLU/policy component code), so ``make
run``, ``make test`` and pytest share one cached model and retrain only when
one of those inputs changed.

Retraining re-uses what did not change: Rasa caches every trained component by
a fingerprint of its config and inputs, so a change to NLU examples retrains the
NLU pipeline and restores the dialogue policies from the cache. Rasa's
fingerprints do not cover the code of our own components, so the cache lives in
a folder named after a hash of that code (:data:`CODE_INPUTS`): changed code
starts from an empty cache instead of re-using components its old code trained.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bot.settings import ROOT

logger = logging.getLogger(__name__)

#: files and folders whose content decides the trained model
MODEL_INPUTS = ("config.yml", "domain", "data", "bot/nlu", "bot/policy", "bot/vocabulary.py")
MODEL_PREFIX = "tandem-"
#: the model inputs that are code: Rasa's cache fingerprints cannot see a change in them
CODE_INPUTS = ("bot/nlu", "bot/policy", "bot/vocabulary.py")
#: Rasa's training cache (``.rasa/`` is git-ignored), one folder per version of CODE_INPUTS
CACHE_DIR = Path(".rasa")
CACHE_PREFIX = "cache-"
#: cache folders kept besides the current one (e.g. for switching between two branches)
CACHE_KEEP = 2


def _input_files(root: Path, names: tuple[str, ...] = MODEL_INPUTS) -> list[Path]:
    files: list[Path] = []
    for name in names:
        path = root / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix in {".yml", ".yaml", ".py", ".json", ".txt"}
                and "__pycache__" not in p.parts
            )
    return files


def _fingerprint(root: Path, names: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for path in _input_files(root, names):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_fingerprint(root: Path = ROOT) -> str:
    """A short hash of every model input's path and content."""
    return _fingerprint(root, MODEL_INPUTS)


def cache_dir(root: Path = ROOT) -> Path:
    """Rasa's training cache for the current code of our components (see the module doc)."""
    return root / CACHE_DIR / f"{CACHE_PREFIX}{_fingerprint(root, CODE_INPUTS)}"


def _prune_caches(current: Path) -> None:
    """Drop all but the newest CACHE_KEEP cache folders of other code versions."""
    others = sorted(
        (p for p in current.parent.glob(f"{CACHE_PREFIX}*") if p.is_dir() and p != current),
        key=lambda p: p.stat().st_mtime, reverse=True,
    )
    for stale in others[CACHE_KEEP:]:
        shutil.rmtree(stale, ignore_errors=True)


def model_path(root: Path = ROOT, models_dir: Path | None = None) -> Path:
    models_dir = models_dir or root / "models"
    return models_dir / f"{MODEL_PREFIX}{model_fingerprint(root)}.tar.gz"


def ensure_model(
    root: Path = ROOT, models_dir: Path | None = None, force: bool = False, validate: bool = True
) -> Path:
    """Return the model for the current inputs, training it first if it does not exist.

    Training runs ``rasa train`` in a child process (TensorFlow keeps memory and
    threads alive in the process that trained), writing atomically: a crashed
    training leaves no half-written model under the final name. ``validate=False``
    skips Rasa's data validation (a third of an NLU-only retraining) for callers
    that have just run ``python -m bot validate``, which is stricter.
    """
    target = model_path(root, models_dir)
    if target.exists() and not force:
        logger.info("model up to date: %s", target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Rasa treats anything after a dot in --fixed-model-name as a suffix, so no dots here.
    fixed_name = "partial-" + target.name.removesuffix(".tar.gz")
    cmd = [
        str(Path(sys.executable).with_name("rasa")), "train",
        "--config", str(root / "config.yml"),
        "--domain", str(root / "domain"),
        "--data", str(root / "data"),
        "--out", str(target.parent),
        "--fixed-model-name", fixed_name,
    ]
    if force:
        cmd.append("--force")  # retrain every component, the cache is not consulted
    if not validate:
        cmd.append("--skip-validation")
    cache = cache_dir(root)
    cache.mkdir(parents=True, exist_ok=True)
    os.utime(cache)  # the newest cache folders are the ones kept
    _prune_caches(cache)
    logger.info("training %s (cache %s)", target.name, cache.relative_to(root))
    started = time.monotonic()
    env = dict(
        os.environ, RASA_CACHE_DIRECTORY=str(cache),
        PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    )
    subprocess.run(cmd, cwd=root, check=True, env=env)
    partial = target.parent / f"{fixed_name}.tar.gz"
    partial.replace(target)
    logger.info("trained %s in %.1f s", target.name, time.monotonic() - started)
    return target


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(ensure_model(force="--force" in sys.argv, validate="--skip-validation" not in sys.argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
