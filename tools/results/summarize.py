#!/usr/bin/env python3
"""Tables and one training-curve chart from runs made by tools/results/parallel_runs.sh.

    tools/results/summarize.py RESULTS_DIR [--svg curves.svg] [--labels a,b,c]

Every sub-folder of RESULTS_DIR is one run (log.txt + metrics.jsonl). Runs whose names
differ only in a trailing "-s<seed>" form one row: accuracy before / after as mean and
spread (min..max) over the seeds, the mean per-step update ratio and boundary-hit ratio
(the paper's Table 3), and the seeds used. With --svg, the held-out accuracy of every
row (mean over seeds at each evaluated iteration) on one chart. Standard library only.
"""
import argparse
import json
import os
import re
import sys
from collections import OrderedDict

BEFORE_AFTER = re.compile(r"accuracy before: ([0-9.]+)% after: ([0-9.]+)% \(n=(\d+)\)")
SEED = re.compile(r"^(.*)-s(\d+)$")


def read_run(folder):
    run = {"before": None, "after": None, "n": None, "evals": {}, "update": [], "boundary": []}
    log = os.path.join(folder, "log.txt")
    if os.path.exists(log):
        m = BEFORE_AFTER.search(open(log, encoding="utf-8").read())
        if m:
            run["before"], run["after"], run["n"] = float(m[1]), float(m[2]), int(m[3])
    metrics = os.path.join(folder, "metrics.jsonl")
    if os.path.exists(metrics):
        for line in open(metrics, encoding="utf-8"):
            d = json.loads(line)
            if "eval_accuracy" in d:
                run["evals"][d["iteration"]] = 100.0 * d["eval_accuracy"]
            if "update_ratio" in d:
                run["update"].append(d["update_ratio"])
                run["boundary"].append(d["boundary_hit_ratio"])
    return run


def mean(v):
    return sum(v) / len(v) if v else float("nan")


def spread(v):
    return f"{mean(v):.2f} ({min(v):.2f}..{max(v):.2f})" if v else "-"


def group_runs(root):
    groups = OrderedDict()
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if not os.path.isdir(folder):
            continue
        m = SEED.match(name)
        label, seed = (m[1], int(m[2])) if m else (name, None)
        groups.setdefault(label, []).append((seed, read_run(folder)))
    return groups


def table(groups):
    rows = ["| run | seeds | accuracy before % | accuracy after % | after / before | update ratio / step | boundary-hit ratio / step |",
            "|---|---|---|---|---|---|---|"]
    for label, runs in groups.items():
        done = [r for _, r in runs if r["after"] is not None]
        before = [r["before"] for r in done]
        after = [r["after"] for r in done]
        ratio = [a / b for a, b in zip(after, before) if b > 0]
        upd = [x for r in done for x in r["update"]]
        bnd = [x for r in done for x in r["boundary"]]
        seeds = ",".join(str(s) for s, r in runs if r["after"] is not None and s is not None) or "-"
        n = done[0]["n"] if done else "-"
        rows.append(f"| {label} (n={n}) | {seeds} | {spread(before)} | {spread(after)} | {spread(ratio)} | "
                    f"{mean(upd):.5f} | {mean(bnd):.6f} |")
    return "\n".join(rows)


def svg(groups, path, width=720, height=420, title=None):
    series = []
    befores = [r["before"] for runs in groups.values() for _, r in runs if r["before"] is not None]
    for label, runs in groups.items():
        its = sorted(set().union(*[r["evals"].keys() for _, r in runs]))
        pts = [(i, mean([r["evals"][i] for _, r in runs if i in r["evals"]])) for i in its]
        if len(pts) >= 2:
            series.append((label, pts))
    if not series:
        print("no run has two or more evaluations: no chart", file=sys.stderr)
        return
    xmax = max(p[0] for _, pts in series for p in pts) or 1
    ymax = max(p[1] for _, pts in series for p in pts) * 1.1 or 1
    base = mean(befores) if befores else None
    left, right, top, bottom = 60, 180, 28, 50
    w, h = width - left - right, height - top - bottom

    def xy(i, a):
        return left + w * i / xmax, top + h * (1 - a / ymax)

    colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + h}" stroke="black"/>',
           f'<text x="{left + w / 2}" y="{height - 12}" text-anchor="middle">iteration</text>',
           f'<text x="{left + w / 2}" y="{top - 4}" text-anchor="middle">{title or ""}</text>',
           f'<text x="14" y="{top + h / 2}" transform="rotate(-90 14 {top + h / 2})" text-anchor="middle">held-out accuracy % (mean over seeds)</text>']
    for k in range(5):
        a = ymax * k / 4
        _, y = xy(0, a)
        out.append(f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">{a:.1f}</text>')
        out.append(f'<line x1="{left}" y1="{y}" x2="{left + w}" y2="{y}" stroke="#ddd"/>')
    for k in range(5):
        i = xmax * k / 4
        x, _ = xy(i, 0)
        out.append(f'<text x="{x}" y="{top + h + 16}" text-anchor="middle">{i:.0f}</text>')
    if base is not None:  # the base model: every run's accuracy before training
        _, y = xy(0, base)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + w}" y2="{y:.1f}" stroke="#555" stroke-dasharray="6,4"/>')
        out.append(f'<text x="{left + w + 10}" y="{top + 16 * (len(series) + 1)}" fill="#555">base model</text>')
    for n, (label, pts) in enumerate(series):
        c = colors[n % len(colors)]
        path_d = " ".join(("M" if j == 0 else "L") + f"{xy(i, a)[0]:.1f},{xy(i, a)[1]:.1f}" for j, (i, a) in enumerate(pts))
        out.append(f'<path d="{path_d}" fill="none" stroke="{c}" stroke-width="2"/>')
        out.append(f'<text x="{left + w + 10}" y="{top + 16 * (n + 1)}" fill="{c}">{label}</text>')
    out.append("</svg>")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root", help="folder of runs (one sub-folder per run)")
    ap.add_argument("--svg", help="write the accuracy curves of every row here")
    ap.add_argument("--labels", help="comma-separated rows to keep, in this order")
    ap.add_argument("--title", help="the chart's title")
    args = ap.parse_args()
    if not os.path.isdir(args.root):
        sys.exit(f"summarize: {args.root}: not a folder")
    groups = group_runs(args.root)
    if args.labels:
        keep = args.labels.split(",")
        groups = OrderedDict((k, groups[k]) for k in keep if k in groups)
    print(table(groups))
    if args.svg:
        svg(groups, args.svg, title=args.title)


if __name__ == "__main__":
    main()
