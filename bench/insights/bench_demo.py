"""How long the supervisor view's demo replay takes (``python -m bot insights demo``, which
``make run`` starts on first start), on the real stack.

Starts the stack as ``make run`` does (the demo profile store, Rasa with the trained model, the
action server, the handoff service with its insights consumer; its own var dir and free ports),
replays the demo conversations through it with the product's ``Replay`` and prints the wall
time, what the replay did, and the machine's load average.

    .venv/bin/python bench/insights/bench_demo.py [--count 300] [--concurrency 4]

Results are printed and written to ``bench/out/insights_demo.json`` (not committed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.insights.demo import DEFAULT_COUNT, SEED, Replay, plans  # noqa: E402
from bot.runner import Stack, _prepare_demo_data  # noqa: E402
from bot.training import ensure_model  # noqa: E402
from tests.conftest import isolated_settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--concurrency", type=int, default=4, help="the replay's (the command's default: 4)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "insights_demo.json")
    args = parser.parse_args()
    given = os.environ.get("TANDEM_MODEL")
    model = Path(given) if given else ensure_model()
    with tempfile.TemporaryDirectory(prefix="tandem-bench-demo-") as tmp:
        settings = isolated_settings(Path(tmp))
        _prepare_demo_data(settings, quiet=True)
        with Stack(settings, model, extra_env={"TANDEM_VAR_DIR": tmp, "TANDEM_INSIGHTS_DEMO": "0"}):
            load_before = os.getloadavg()[0]
            started = time.monotonic()
            tally = asyncio.run(Replay(settings, concurrency=args.concurrency).run(plans(args.count, SEED)))
            wall = time.monotonic() - started
    results = {"conversations": args.count, "concurrency": args.concurrency, "wall_s": round(wall, 1),
               "tally": tally.to_json(), "machine": {"cpus": os.cpu_count(), "load_avg_1m_before": round(load_before, 2),
                                                     "load_avg_1m_after": round(os.getloadavg()[0], 2)}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
