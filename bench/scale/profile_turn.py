"""Where a turn's time goes: tandem embedded against stock ``rasa init``, interleaved, with py-spy.

    .venv/bin/python -m bench.scale.profile_turn [--rounds 2] [--turns 300]

1. Both assistants run at once; each round measures 1 stream (40 messages) and 20 concurrent
   senders (5 messages each) on each, alternating which goes first.
2. py-spy samples the Rasa server and the action server of tandem under 20 concurrent senders,
   then the Rasa server during turns ``turns-50``..``turns`` of one long conversation.
3. One conversation of ``--turns`` messages on each: latency of turn 1, 50 and 300 (median of
   five turns from there).

Writes ``bench/out/scale/profile-<time>/`` (not committed) and prints the breakdown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

from bench.scale import load, profiling
from bench.scale.stacks import Embedded, Stock, Target, temp_dir
from bot.training import ensure_model

OUT = Path(__file__).resolve().parents[1] / "out" / "scale"  # bench/out/ is not committed


async def warm(target: Target) -> None:
    await load.concurrent(target.urls, 4, 5, prefix="warm")


async def interleaved(targets: list[Target], rounds: int) -> dict[str, dict[str, list[dict[str, Any]]]]:
    results: dict[str, dict[str, list[dict[str, Any]]]] = {t.name: {"stream": [], "c20": []} for t in targets}
    for r in range(rounds):
        order = targets if r % 2 == 0 else list(reversed(targets))
        for target in order:
            run = await load.concurrent(target.urls, 1, 40, prefix="stream")
            results[target.name]["stream"].append(run.summary())
            print(target.name, "1 stream", run.summary(), flush=True)
        for target in order:
            run = await load.concurrent(target.urls, 20, 5, prefix="c20")
            results[target.name]["c20"].append(run.summary())
            print(target.name, "20 concurrent", run.summary(), flush=True)
    return results


async def profile_load(target: Embedded, out: Path) -> dict[str, Any]:
    pids = target.processes
    with profiling.Recorder(pids["rasa"], out / "rasa-c20.txt"), \
            profiling.Recorder(pids["actions"], out / "actions-c20.txt"):
        run = await load.concurrent(target.urls, 20, 10, prefix="prof")
    return {"run": run.summary(), **summarise(out, ("rasa-c20", "actions-c20"))}


def summarise(out: Path, names: tuple[str, ...]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name in names:
        stacks = profiling.load_stacks(out / f"{name}.txt")
        result[name] = {
            "samples": sum(stacks.values()),
            "breakdown": [(label, n, round(share, 3)) for label, n, share in profiling.breakdown(stacks)],
            "top": [(frame, round(share, 3)) for frame, share in profiling.top_functions(stacks)],
        }
    return result


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = OUT / f"profile-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    model = ensure_model()
    embedded = Embedded(model, temp_dir("bench-embedded-"), name=args.name,
                        endpoints=Path(args.endpoints) if args.endpoints else None)
    stock = Stock(out)
    report: dict[str, Any] = {"when": stamp}
    try:
        stock.launch()
        embedded.start()
        stock.wait()
        for t in (stock, embedded):
            await warm(t)
        report["rss_after_warmup"] = {t.name: t.rss() for t in (stock, embedded)}
        report["interleaved"] = await interleaved([stock, embedded], args.rounds)
        report["profile_c20"] = await profile_load(embedded, out)
        report["long"] = {}
        for target in (stock, embedded):
            sender = f"long-{int(time.time() * 1000)}"
            lat = await load.conversation(target.urls, sender, args.turns - 50)
            rec_out = out / "rasa-long.txt"
            if target is embedded:
                with profiling.Recorder(target.processes["rasa"], rec_out):
                    lat += await load.conversation(target.urls, sender, 50, offset=args.turns - 50)
            else:
                lat += await load.conversation(target.urls, sender, 50, offset=args.turns - 50)
            report["long"][target.name] = {
                f"turn {n}": round(load.window_median(lat, n) * 1000, 1) for n in (1, 50, args.turns - 4)
            }
            report["long"][target.name]["all_ms"] = [round(x * 1000, 1) for x in lat]
            print(target.name, {k: v for k, v in report["long"][target.name].items() if k != "all_ms"}, flush=True)
        report["profile_long"] = summarise(out, ("rasa-long",))
    finally:
        embedded.stop()
        stock.stop()
    (out / "result.json").write_text(json.dumps(report, indent=1))
    for key in ("profile_c20", "profile_long"):
        for name, prof in report[key].items():
            if not isinstance(prof, dict) or "breakdown" not in prof:
                continue
            print(f"\n== {key} {name}: {prof['samples']} samples")
            for label, _n, share in prof["breakdown"]:
                print(f"  {label:45s} {share * 100:5.1f}%")
            for frame, share in prof["top"][:20]:
                print(f"    {share * 100:5.1f}%  {frame}")
    print("written", out / "result.json")
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--endpoints", help="endpoints file of tandem's Rasa (default: endpoints.yml)")
    parser.add_argument("--name", default="tandem embedded")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
