"""The report as text (the command's output), CSV (the export) and PNG plots.

All three are rendered from one :class:`bot.insights.report.Report`, so the console, the API,
the CSV download and the command always show the same numbers.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Iterator

from bot.insights.report import Report

PLOTS = ("daily_containment.png", "handoffs_by_reason.png", "wait_distribution.png", "ratings.png")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _secs(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"


def as_text(rep: Report) -> str:
    """The figures a contact-centre lead asks for every week, in that order."""
    f = {k: v for k, v in rep.filters.items() if v}
    lines = [f"tandem insights — {', '.join(f'{k} {v}' for k, v in f.items()) or 'all time'}", ""]
    lines += [
        f"Conversations            {rep.conversations}",
        f"Contained (no person)    {rep.contained} ({_pct(rep.containment_rate)})",
        f"Reached a person         {rep.handed_off_conversations} ({_pct(rep.handoff_rate)}); "
        f"{rep.handoffs} handoffs: {rep.explicit_requests} asked by the customer, {rep.policy_decided} by the policy",
        f"NLU fallback rate        {_pct(rep.fallback_rate)} of {rep.user_turns} customer turns",
        f"Out-of-scope rate        {_pct(rep.out_of_scope_rate)}",
        "",
        "Handoffs by reason       " + ", ".join(f"{k} {v}" for k, v in rep.handoffs_by_reason.items()),
        "Handoffs by topic        " + ", ".join(f"{k} {v}" for k, v in rep.handoffs_by_topic.items()),
        "Intents before handoff   " + ", ".join(f"{k} {v}" for k, v in rep.intents_before_handoff.items()),
        "",
        f"Queue wait               p50 {_secs(rep.wait_p50_s)}, p90 {_secs(rep.wait_p90_s)}, "
        f"mean {_secs(rep.wait_avg_s)} ({rep.accepted} accepted)",
        f"Abandoned (no agent yet) {rep.abandoned} ({_pct(rep.abandonment_rate)} of ended handoffs); "
        f"{rep.still_waiting} still waiting",
        f"Agent first reply        mean {_secs(rep.first_reply_avg_s)}; handle time mean {_secs(rep.handle_avg_s)}",
        f"Handed back to the bot   {rep.handed_back}",
        "",
        f"Ratings                  {rep.ratings.rated} rated ({_pct(rep.ratings.share_rated)} of conversations "
        f"that reached a person), average {_fmt(rep.ratings.average)}, {rep.ratings.with_comment} with a comment",
        "Rating distribution      " + ", ".join(f"{k}★ {v}" for k, v in rep.ratings.distribution.items()),
        "Ratings by reason        " + ", ".join(
            f"{k} {_fmt(v['average'])} ({v['rated']})" for k, v in rep.ratings_by_reason.items() if v["rated"]),
        "Ratings by topic         " + ", ".join(
            f"{k} {_fmt(v['average'])} ({v['rated']})" for k, v in rep.ratings_by_topic.items() if v["rated"]),
        "",
        "Requests started         " + (", ".join(f"{k} {v}" for k, v in rep.requests_by_type.items()) or "0"),
        f"Follow-ups sent          {rep.followups_sent}"
        + (" (" + ", ".join(f"{k} {v}" for k, v in rep.followups_by_type.items()) + ")" if rep.followups_sent else ""),
    ]
    return "\n".join(lines) + "\n"


def rows(rep: Report) -> Iterator[tuple[str, str, Any]]:
    """(section, key, value) for every figure: the CSV export's rows."""
    data = rep.to_json()
    for key, value in data["filters"].items():
        yield "filter", key, value
    for key, value in data.items():
        if key in ("filters", "daily"):
            continue
        if isinstance(value, dict):
            for sub, v in value.items():
                if isinstance(v, dict):
                    for leaf, x in v.items():
                        yield key, f"{sub}.{leaf}", x
                else:
                    yield key, sub, v
        else:
            yield "total", key, value
    for day in data["daily"]:
        for key in ("conversations", "contained", "containment_rate", "handoffs"):
            yield f"daily.{day['day']}", key, day[key]
        for reason, n in day["handoffs_by_reason"].items():
            yield f"daily.{day['day']}", f"handoffs_by_reason.{reason}", n


def as_csv(rep: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("section", "key", "value"))
    for section, key, value in rows(rep):
        writer.writerow((section, key, "" if value is None else value))
    return out.getvalue()


def write_plots(rep: Report, out_dir: Path) -> list[Path]:
    """PNG plots: daily containment, daily handoffs by reason, the wait distribution, ratings."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / name for name in PLOTS]
    days = [d["day"] for d in rep.daily]

    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(days, [(d["containment_rate"] or 0) * 100 for d in rep.daily], marker="o")
    ax.set_title("Containment: conversations finished without a person")
    ax.set_ylabel("% of conversations")
    ax.set_ylim(0, 100)
    _dates(ax, days)
    _save(fig, paths[0])

    fig, ax = plt.subplots(figsize=(8, 3.5))
    reasons = list(rep.handoffs_by_reason)
    bottom = [0] * len(days)
    for reason in reasons:
        values = [d["handoffs_by_reason"].get(reason, 0) for d in rep.daily]
        ax.bar(days, values, bottom=bottom, label=reason)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_title("Handoffs per day by escalation reason")
    if reasons:
        ax.legend(fontsize=7, loc="upper left")
    _dates(ax, days)
    _save(fig, paths[1])

    fig, ax = plt.subplots(figsize=(8, 3.5))
    edges = [int(k) for k in rep.wait_histogram]
    labels = [_edge_label(e) for e in edges]
    ax.bar(range(len(edges)), list(rep.wait_histogram.values()))
    ax.set_xticks(range(len(edges)), labels, rotation=60, fontsize=7)
    ax.set_title(f"Queue wait until an agent accepted (p50 {_secs(rep.wait_p50_s)}, p90 {_secs(rep.wait_p90_s)})")
    ax.set_xlabel("wait up to")
    _save(fig, paths[2])

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.bar([f"{k}★" for k in rep.ratings.distribution], list(rep.ratings.distribution.values()), color="#d9a400")
    ax.set_title(f"Post-chat ratings (average {_fmt(rep.ratings.average)}, {rep.ratings.rated} rated)")
    _save(fig, paths[3])
    return paths


def _edge_label(edge: int) -> str:
    if edge >= 10**9:
        return "more"
    return f"{edge}s" if edge < 120 else f"{edge // 60}m"


def _dates(ax: Any, days: list[str]) -> None:
    step = max(1, len(days) // 12)
    ax.set_xticks(range(0, len(days), step), [days[i] for i in range(0, len(days), step)], rotation=45, fontsize=7)


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
