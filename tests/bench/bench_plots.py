#!/usr/bin/python3
"""Draws the pictures of docs/performance.md from bench-results.json (as
tests/bench/bench_summary.py writes it), with Debian's python3-matplotlib:

  throughput-by-concurrency.png  calls per second against calls in flight,
                                 for the baseline, Validate, Create, Revoke
  latency-percentiles.png        p50/p90/p99/p99.9 of Validate, Create and
                                 Revoke beside the baseline's (64 in flight)
  ratios-by-round.png            every round's ratio of each measure, its
                                 median, the median's 95% confidence
                                 interval and its goal

Usage: bench_plots.py BENCH_RESULTS_JSON OUT_DIR
"""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.ticker import (FuncFormatter, LogLocator,  # noqa: E402
                               NullFormatter, NullLocator)

# One color per thing measured, the same in every picture.
COLORS = {"baseline": "#7f7f7f", "validate": "#1f77b4",
          "create": "#d62728", "revoke": "#2ca02c"}
PERCENTILES = [("p50_us", "p50"), ("p90_us", "p90"), ("p99_us", "p99"),
               ("p999_us", "p99.9")]


def plain(value, _position=None):
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def log_ticks(axis):
    """Labeled ticks at 1, 2 and 5 of each decade of a log axis."""
    axis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
    axis.set_major_formatter(FuncFormatter(plain))
    axis.set_minor_formatter(NullFormatter())


def caption(run):
    return f"{run['date']}, commit {run['commit']}, {run['machine']}"


def throughput(report, path):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for mode, label in (("ping", "baseline (empty RPC)"),
                        ("validate", "ValidateSession"),
                        ("create", "CreateSession"),
                        ("revoke", "RevokeSession")):
        points = sorted((c["concurrency"], c["rps"]) for c in report["curves"]
                        if c["mode"] == mode)
        if points:
            color = COLORS["baseline" if mode == "ping" else mode]
            ax.plot(*zip(*points), marker="o", label=label, color=color)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(sorted({c["concurrency"] for c in report["curves"]}))
    ax.xaxis.set_major_formatter(FuncFormatter(plain))
    ax.xaxis.set_minor_locator(NullLocator())
    log_ticks(ax.yaxis)
    ax.set_xlabel("calls in flight (4 HTTP/2 connections)")
    ax.set_ylabel("calls per second (log scale)")
    ax.set_title("Throughput by calls in flight, sessiond_load, one run each")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.text(0.01, 0.01, caption(report["run"]), fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def latency(report, path):
    by_name = {m["name"]: m for m in report["measurements"]}
    series = []
    if "validate" in by_name:
        series.append(("baseline", "baseline (empty RPC)",
                       by_name["validate"]["reference"]))
    for name, label in (("validate", "ValidateSession"),
                        ("create", "CreateSession"),
                        ("revoke", "RevokeSession")):
        if name in by_name:
            series.append((name, label, by_name[name]["measure"]))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    width = 0.8 / max(1, len(series))
    for i, (key, label, figures) in enumerate(series):
        xs = [p + (i - (len(series) - 1) / 2) * width
              for p in range(len(PERCENTILES))]
        ys = [(figures[f"median_{p}"] or 0) / 1000 for p, _ in PERCENTILES]
        ax.bar(xs, ys, width, label=label, color=COLORS[key])
    ax.set_xticks(range(len(PERCENTILES)), [name for _, name in PERCENTILES])
    ax.set_yscale("log")
    log_ticks(ax.yaxis)
    ax.set_ylabel("latency, milliseconds (log scale)")
    ax.set_title("Latency at 64 calls in flight, median of the rounds")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.legend()
    fig.text(0.01, 0.01, caption(report["run"]), fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def ratios(report, path):
    measures = [m for m in report["measurements"] if m["compares"] == "rps"]
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(measures) + 1.8))
    for row, m in enumerate(reversed(measures)):
        ax.scatter(m["ratios"], [row] * len(m["ratios"]), s=14,
                   color="#1f77b4", alpha=0.6, zorder=3)
        ax.plot([m["median_ratio"]] * 2, [row - 0.3, row + 0.3],
                color="black", linewidth=2, zorder=4)
        if m.get("median_95ci"):
            ax.plot(m["median_95ci"], [row - 0.2] * 2, color="black",
                    linewidth=1, zorder=4)
        if m["goal"]:
            bound = float(m["goal"].split()[1].rstrip("x"))
            ax.plot([bound] * 2, [row - 0.4, row + 0.4], color="#d62728",
                    linestyle=":", linewidth=1.5, zorder=2)
    ax.set_yticks(range(len(measures)),
                  [m["short"] for m in reversed(measures)], fontsize=8)
    ax.set_xscale("log")
    log_ticks(ax.xaxis)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.axvline(1, color="#7f7f7f", linewidth=0.8)
    ax.set_xlabel("ratio (log scale)")
    ax.set_title("Each round's ratio (dots), their median (black bar) and "
                 "its 95% CI (line), the goal (red)", fontsize=10)
    ax.grid(True, axis="x", which="both", alpha=0.3)
    fig.text(0.01, 0.01, caption(report["run"]), fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        report = json.load(f)
    os.makedirs(argv[2], exist_ok=True)
    throughput(report, os.path.join(argv[2], "throughput-by-concurrency.png"))
    latency(report, os.path.join(argv[2], "latency-percentiles.png"))
    ratios(report, os.path.join(argv[2], "ratios-by-round.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
