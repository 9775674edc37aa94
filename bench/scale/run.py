"""``python -m bench`` (``make bench``): tandem against stock Rasa, one run, interleaved.

Starts, side by side on loopback: a stock ``rasa init`` assistant, tandem embedded (``make run``'s
SQLite set-up), optionally tandem as it was before bench/scale (Rasa's own SQL tracker store,
``--before``), and tandem on the production services with two replicas (PostgreSQL, Redis,
RabbitMQ; measured with traffic to one replica and to both). Then, bounded by message counts:

1. REST latency p50/p95/p99 and throughput at 1, 10 and 50 concurrent conversations (closed
   loop), ``--rounds`` rounds, the targets' order rotated each round;
2. latency against conversation length: turns 1-5 against 51-55 of one conversation;
3. resident memory of every process after warm-up;
4. the handoff latencies and bursts (``bench/handoff/bench_latency.py``, after the others stop):
   tandem embedded, then (unless ``--no-replicas``) the production services with two replicas.

Writes ``reports/scale/REPORT.md``, ``reports/scale/*.png`` and ``reports/scale/result.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.scale import load
from bench.scale.stacks import Embedded, Production, Stock, Target, temp_dir
from bot.settings import ROOT

OUT = ROOT / "reports" / "scale"
LEVELS = {1: 20, 10: 4, 50: 2}  # concurrent conversations -> messages each


class View(Target):
    """A target seen through some of its URLs (production with one replica of two)."""

    def __init__(self, name: str, target: Target, urls: list[str]) -> None:
        super().__init__(name, urls, {})
        self.target = target

    def stop(self) -> None:
        pass


def start_together(targets: list[Any]) -> None:
    """Start every target at once (each model takes minutes to load on a busy machine)."""
    import threading

    errors: list[BaseException] = []

    def start(target: Any) -> None:
        try:
            target.start()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(t,), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


async def measure(targets: list[Target], rounds: int) -> dict[str, dict[int, list[dict[str, Any]]]]:
    results: dict[str, dict[int, list[dict[str, Any]]]] = {t.name: {c: [] for c in LEVELS} for t in targets}
    for r in range(rounds):
        for level, per_sender in LEVELS.items():
            order = targets[r % len(targets):] + targets[: r % len(targets)]
            for target in order:
                run = await load.concurrent(target.urls, level, per_sender, prefix=f"c{level}r{r}")
                results[target.name][level].append(run.summary())
                print(f"round {r} {target.name:28s} {level:3d} concurrent {run.summary()}", flush=True)
    return results


async def turns(targets: list[Target], length: int = 60) -> dict[str, dict[str, float]]:
    out = {}
    for target in targets:
        lat = await load.conversation(target.urls, f"long-{time.time_ns()}", length)
        first, later = load.window_median(lat, 1), load.window_median(lat, 51)
        out[target.name] = {"turns 1-5 ms": round(first * 1000, 1), "turns 51-55 ms": round(later * 1000, 1),
                            "ratio": round(later / first, 2)}
        print(target.name, out[target.name], flush=True)
    return out


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median over rounds of each figure; the spread says how noisy the machine was."""
    keys = ("p50_ms", "p95_ms", "p99_ms", "throughput")
    out = {k: round(statistics.median(r[k] for r in runs), 2) for k in keys}
    out["p50_spread_ms"] = [min(r["p50_ms"] for r in runs), max(r["p50_ms"] for r in runs)]
    out["throughput_spread"] = [min(r["throughput"] for r in runs), max(r["throughput"] for r in runs)]
    out["n"] = sum(r["n"] for r in runs)
    out["errors"] = sum(r["errors"] for r in runs)
    out["empty_replies"] = sum(r["empty_replies"] for r in runs)
    return out


def handoff_bursts(out: Path, customers: int, replicas: int = 0) -> dict[str, Any]:
    path = out / (f"handoff_latency_{replicas}_replicas.json" if replicas else "handoff_latency.json")
    cmd = [sys.executable, str(ROOT / "bench" / "handoff" / "bench_latency.py"), "--customers", str(customers),
           "--talk-seconds", "10", "--latecomers", "5", "--replicas", str(replicas), "--out", str(path)]
    done = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=1800)
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    return json.loads(path.read_text())


def plots(out: Path, table: dict[str, dict[int, dict[str, Any]]], length: dict[str, dict[str, float]]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, levels in table.items():
        xs = sorted(levels)
        axes[0].plot(xs, [levels[x]["p50_ms"] for x in xs], marker="o", label=name)
        axes[1].plot(xs, [levels[x]["throughput"] for x in xs], marker="o", label=name)
    axes[0].set(xlabel="concurrent conversations", ylabel="p50 latency (ms)", xscale="log", yscale="log",
                title="REST latency, median of rounds")
    axes[1].set(xlabel="concurrent conversations", ylabel="messages per second", xscale="log",
                title="REST throughput")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "latency_throughput.png", dpi=110)
    files.append("latency_throughput.png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    names = list(length)
    ax.bar([i - 0.2 for i in range(len(names))], [length[n]["turns 1-5 ms"] for n in names], 0.4, label="turns 1-5")
    ax.bar([i + 0.2 for i in range(len(names))], [length[n]["turns 51-55 ms"] for n in names], 0.4,
           label="turns 51-55")
    ax.set_xticks(range(len(names)), names, rotation=20, fontsize=7)
    ax.set(ylabel="median latency (ms)", title="latency against conversation length")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "conversation_length.png", dpi=110)
    files.append("conversation_length.png")
    plt.close(fig)
    return files


def report(out: Path, result: dict[str, Any]) -> str:
    table = result["table"]
    stock = table["stock rasa init"]
    lines = [
        "# Scale benchmark (`python -m bench`)",
        "",
        f"Run {result['when']} on {os.cpu_count()} cores, load average before/after "
        f"{result['load_before']} / {result['load_after']} (the machine is shared: read ratios, not absolutes).",
        f"Rounds: {result['rounds']}; figures are the median over rounds, the spread of p50 and throughput "
        "over rounds is given in brackets. Messages: the same five texts for every assistant; closed-loop senders.",
        "",
        "## REST latency and throughput",
        "",
        "| assistant | concurrent | p50 ms [spread] | p95 ms | p99 ms | msg/s [spread] | p50 / stock | msg/s / stock | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, levels in table.items():
        for level, row in sorted(levels.items()):
            base = stock[level]
            lines.append(
                f"| {name} | {level} | {row['p50_ms']} {row['p50_spread_ms']} | {row['p95_ms']} | {row['p99_ms']} | "
                f"{row['throughput']} {row['throughput_spread']} | {row['p50_ms'] / base['p50_ms']:.2f}× | "
                f"{row['throughput'] / base['throughput']:.2f}× | {row['errors'] + row['empty_replies']} |")
    prod = [n for n in table if n.startswith("tandem production")]
    if len(prod) == 2:
        one, two = table[prod[0]], table[prod[1]]
        lines += ["", "Production, two replicas against one, throughput: " + ", ".join(
            f"{lvl} concurrent {two[lvl]['throughput'] / one[lvl]['throughput']:.2f}×" for lvl in sorted(one))]
    lines += ["", "![latency and throughput](latency_throughput.png)", "",
              "## Latency against conversation length", "",
              "| assistant | turns 1-5 median ms | turns 51-55 median ms | ratio |", "|---|---|---|---|"]
    for name, row in result["length"].items():
        lines.append(f"| {name} | {row['turns 1-5 ms']} | {row['turns 51-55 ms']} | {row['ratio']}× |")
    lines += ["", "![conversation length](conversation_length.png)", "", "## Resident memory after warm-up (MiB)", "",
              "| assistant | process | RSS MiB |", "|---|---|---|"]
    for name, procs in result["rss"].items():
        for proc, mib in procs.items():
            lines.append(f"| {name} | {proc} | {mib} |")
    for key, title in (("handoff", "tandem embedded"), ("handoff_replicas", "tandem production, two replicas")):
        lines += handoff_section(result.get(key), title)
    text = "\n".join(lines) + "\n"
    (out / "REPORT.md").write_text(text)
    return text


def handoff_section(handoff: dict[str, Any] | None, title: str) -> list[str]:
    lines: list[str] = []
    if handoff:
        lines += ["", f"## Handoff (bench/handoff/bench_latency.py, {title}, run alone after the above)", ""]
        if "error" in handoff:
            lines.append(f"failed: `{handoff['error'][-300:]}`")
        else:
            rows = [("request → console, arrivals", handoff["arrivals"]["request_to_console"]),
                    ("customer message → console, open", handoff["conversations"]["customer_message_to_console"]),
                    ("agent reply → customer, open", handoff["conversations"]["agent_reply_to_customer"]),
                    ("burst: replies at the same instant", handoff["stress_reply_burst"]),
                    ("burst: requests at the same instant → console",
                     handoff["stress_request_burst"]["request_to_console"])]
            lines += [f"{handoff['customers']} customers, {handoff['agents']} agents.", "",
                      "| path | n | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|"]
            for label, s in rows:
                lines.append(f"| {label} | {s.get('n')} | {s.get('p50_ms')} | {s.get('p99_ms')} | {s.get('max_ms')} |")
            lines.append(f"\nmissing: arrivals {handoff['arrivals']['missing']}, request burst "
                         f"{handoff['stress_request_burst']['missing']}, failed replies "
                         f"{handoff['conversations']['failed_replies']} + {handoff['stress_reply_burst'].get('failed')}; "
                         f"load average {handoff.get('machine', {}).get('load_avg_1m_before')} before, "
                         f"{handoff.get('machine', {}).get('load_avg_1m_after')} after")
    return lines


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    from bot.training import ensure_model

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    model = Path(os.environ["TANDEM_MODEL"]) if os.environ.get("TANDEM_MODEL") else ensure_model()
    started: list[Target] = []
    result: dict[str, Any] = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "rounds": args.rounds,
                              "load_before": round(os.getloadavg()[0], 1)}
    try:
        stock = Stock(out).launch()
        started.append(stock)
        embedded = Embedded(model, temp_dir("bench-embedded-"))
        started.append(embedded)
        targets: list[Target] = [stock, embedded]
        if args.before:
            before = Embedded(model, temp_dir("bench-before-"), name="tandem before (Rasa SQL store)",
                              endpoints=ROOT / "bench" / "scale" / "endpoints-rasa-sql.yml")
            started.append(before)
            targets.append(before)
        if args.replicas:
            prod = Production(model, replicas=2)
            started.append(prod)
        start_together([t for t in started if t is not stock])
        if args.replicas:
            targets += [View("tandem production 1 replica", prod, prod.urls[:1]),
                        View("tandem production 2 replicas", prod, prod.urls)]
        stock.wait()
        for target in targets:
            await load.concurrent(target.urls, 4, 5, prefix="warm")
        result["rss"] = {t.name: t.rss() for t in started}
        (out / "rss.json").write_text(json.dumps(result["rss"], indent=1))
        if args.rounds == 0:  # resident memory only
            return result
        raw = await measure(targets, args.rounds)
        result["raw"] = raw
        result["table"] = {name: {lvl: combine(runs) for lvl, runs in levels.items()} for name, levels in raw.items()}
        result["length"] = await turns(targets)
    finally:
        for target in reversed(started):
            target.stop()
    result["load_after"] = round(os.getloadavg()[0], 1)
    plots(out, result["table"], result["length"])
    (out / "result.json").write_text(json.dumps(result, indent=1))
    print(report(out, result), flush=True)
    if args.handoff:  # written again with the handoff figures
        result["handoff"] = handoff_bursts(out, args.customers)
        if args.replicas:
            result["handoff_replicas"] = handoff_bursts(out, args.customers, replicas=2)
        (out / "result.json").write_text(json.dumps(result, indent=1))
        print(report(out, result))
    print("written", out / "REPORT.md")
    return result


def from_log(args: argparse.Namespace) -> None:
    """Rebuild the report from the lines a run printed (a run that crashed after measuring)."""
    import ast
    import re

    raw: dict[str, dict[int, list[dict[str, Any]]]] = {}
    length: dict[str, dict[str, float]] = {}
    for line in args.from_log.read_text().splitlines():
        m = re.match(r"round (\d+) (.+?)\s+(\d+) concurrent (\{.*\})$", line)
        if m:
            raw.setdefault(m.group(2).strip(), {c: [] for c in LEVELS})[int(m.group(3))].append(
                ast.literal_eval(m.group(4)))
            continue
        m = re.match(r"(.+?) (\{'turns 1-5 ms'.*\})$", line)
        if m:
            length[m.group(1).strip()] = ast.literal_eval(m.group(2))
    result: dict[str, Any] = {
        "when": args.when, "rounds": max(len(r) for lv in raw.values() for r in lv.values()),
        "load_before": args.load, "load_after": args.load, "raw": raw, "length": length,
        "table": {name: {lvl: combine(runs) for lvl, runs in levels.items()} for name, levels in raw.items()},
        "rss": json.loads(args.rss.read_text()) if args.rss else {},
    }
    if args.handoff_json:
        result["handoff"] = json.loads(args.handoff_json.read_text())
    if args.handoff_replicas_json:
        result["handoff_replicas"] = json.loads(args.handoff_replicas_json.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    plots(args.out, result["table"], length)
    (args.out / "result.json").write_text(json.dumps(result, indent=1))
    print(report(args.out, result))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-before", dest="before", action="store_false",
                        help="skip tandem with Rasa's own SQL tracker store")
    parser.add_argument("--no-replicas", dest="replicas", action="store_false",
                        help="skip the production stack (PostgreSQL, Redis, RabbitMQ)")
    parser.add_argument("--no-handoff", dest="handoff", action="store_false", help="skip the handoff bursts")
    parser.add_argument("--customers", type=int, default=100, help="customers of the handoff bench")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--from-log", type=Path, help="rebuild the report from a run's printed lines")
    parser.add_argument("--rss", type=Path, help="with --from-log: rss.json of a run")
    parser.add_argument("--handoff-json", type=Path, help="with --from-log: bench_latency.py's output")
    parser.add_argument("--handoff-replicas-json", type=Path,
                        help="with --from-log: bench_latency.py --replicas 2's output")
    parser.add_argument("--when", default="", help="with --from-log: when the run was")
    parser.add_argument("--load", default="", help="with --from-log: the load average during the run")
    args = parser.parse_args(argv)
    if args.from_log:
        from_log(args)
        return
    asyncio.run(main_async(args))
