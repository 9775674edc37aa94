"""Which sentence-embedding route: one trained model, its experts switched at run time.

``python -m bench.nlu.compare_experts --model M.tar.gz [--limit N]`` loads a model
trained with both the static table (``static_embeddings: true``) and the MiniLM
encoder, then parses both dev sets once per variant:

* ``sparse``: the TF-IDF logistic regression alone;
* ``minilm gate G``: sparse + MiniLM consulted when the top probability < G
  (what main shipped, G = 0.9);
* ``static``: sparse + static table on every parse, no encoder;
* ``static + minilm gate G``: both, the encoder behind a lower gate.

The experts are independently trained logistic regressions combined as a
product of experts, so leaving one out at run time is exactly the model that
would have been trained without it. Prints accuracy, rejection, CPU ms per
parse and parses per second (single stream, in-process ``Agent.parse_message``,
wall clock and CPU time both, since the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bot.nlu.cli import DEFAULT_DATA, _thin, agent_parser
from bot.nlu.evaluation import compute_report, read_eval_file, run_parser
from bot.nlu.linear_classifier import LinearIntentClassifier


def _classifier(agent) -> LinearIntentClassifier:
    for node in agent.processor.graph_runner._instantiated_nodes.values():
        if isinstance(node._component, LinearIntentClassifier):
            return node._component
    raise SystemExit("the model has no LinearIntentClassifier")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--gates", default="0.9,0.7,0.5")
    parser.add_argument("--static-weights", default="1.0", help="weights of the static expert to try")
    parser.add_argument("--only-static", action="store_true", help="skip the variants without the static table")
    parser.add_argument("--data", type=Path, action="append", default=None,
                        help="evaluation files (default: both dev sets in ../shared/eval)")
    args = parser.parse_args()
    rows = [u for path in (args.data or DEFAULT_DATA) for u in _thin(read_eval_file(path), args.limit)]
    parse, loop = agent_parser(args.model)
    component = _classifier(parse.agent)
    static, dense = component.static, component.dense
    if static is None or dense is None:
        raise SystemExit("train the model with static_embeddings: true and encoder: minilm")
    gates = [float(g) for g in args.gates.split(",")]
    variants = [] if args.only_static else [("sparse", None, None, 1.0, 1.0)]
    variants += [] if args.only_static else [(f"minilm gate {g}", None, dense, g, 1.0) for g in gates]
    for w in (float(x) for x in args.static_weights.split(",")):
        variants += [(f"static x{w}", static, None, 1.0, w)]
        variants += [(f"static x{w} + minilm gate {g}", static, dense, g, w) for g in gates]
    print(f"{len(rows)} utterances; load average {os.getloadavg()[0]:.1f}")
    print(f"{'variant':<28} {'in-scope':>8} {'reject':>7} {'cpu ms':>7} {'cpu/s':>7} {'wall/s':>7} {'calls':>6}")
    try:
        for name, static_model, dense_model, gate, weight in variants:
            component.config["static_weight"] = weight
            component.static = static_model
            component.config["static_embeddings"] = static_model is not None
            component.dense = dense_model
            component.config["encoder_gate"] = gate
            encoder = component._get_encoder() if dense_model is not None else None
            if encoder is not None:
                encoder._cache.clear()
            calls = _count_calls(encoder)
            cpu = time.process_time()
            outcomes = run_parser(rows, parse)
            cpu = time.process_time() - cpu
            report = compute_report(outcomes)
            per_parse = cpu / len(outcomes)
            consulted = f"{calls() / len(outcomes):.0%}" if encoder is not None else "-"
            print(f"{name:<28} {report.in_scope_accuracy:8.1%} {report.oos_rejection:7.1%} "
                  f"{1000 * per_parse:7.2f} {1 / per_parse:7.0f} {report.throughput_per_s:7.0f} {consulted:>6}",
                  flush=True)
    finally:
        loop.close()


def _count_calls(encoder):
    if encoder is None:
        return lambda: 0
    counter = {"n": 0}
    original = type(encoder)._run

    def counting(texts):
        counter["n"] += len(texts)
        return original(encoder, texts)

    encoder._run = counting
    return lambda: counter["n"]


if __name__ == "__main__":
    main()
