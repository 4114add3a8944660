"""Benchmark report: markdown + CSV tables (per type x severity, clean, mPC, rPC, per family, per keypoint),
PNG plots (metric vs severity per family; models compared) and a grid of the worst predictions."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import cv2
import numpy as np

from ..degrade import DEGRADATIONS, IMAGECORRUPTIONS
from ..files import atomic_write_bytes, write_text
from ..imageio import read_rgb, write_image
from ..metrics.coco import oks
from ..metrics.pck import pck_counts
from ..metrics.robustness import family_means, mpc, mpc_weights, paired_bootstrap_mpc, rpc

FAMILIES = {name: spec.family for name, spec in {**DEGRADATIONS, **IMAGECORRUPTIONS}.items()}


def _main_metric(gt) -> str:
    return "PCKh" if gt.kind == "mpii" else "AP"


def summarize(scores: dict, metric: str) -> dict:
    """One model's scores per split -> grid, clean, mPC, rPC, family means, mixed and real means."""
    grid: dict[str, dict[int, float]] = {}
    mixed, real, clean = [], None, float("nan")
    for key, m in scores.items():
        v = m[metric]
        if key == "clean":
            clean = v
        elif key == "real":
            real = v
        elif key.startswith("mixed/"):
            mixed.append(v)
        else:
            name, sev = key.split("/")
            grid.setdefault(name, {})[int(sev)] = v
    m_pc = mpc(grid)
    return {
        "grid": grid,
        "clean": clean,
        "mPC": m_pc,
        "rPC": rpc(m_pc, clean),
        "families": family_means(grid, FAMILIES),
        "mixed": float(np.mean(mixed)) if mixed else float("nan"),
        "real": real,
    }


def seed_summary(scores_by_model: dict[str, dict], models: list[str], metric: str) -> dict:
    """Mean and sample standard deviation over seeds of clean, mPC, rPC and mixed for one recipe (the models
    trained the same way with different seeds): the spread any gap between two recipes has to clear."""
    missing = [m for m in models if m not in scores_by_model]
    if missing:
        raise KeyError(f"no scores for {missing} (models scored: {sorted(scores_by_model)})")
    per_seed = [summarize(scores_by_model[m], metric) for m in models]
    out: dict = {"n": len(models)}
    for key in ("clean", "mPC", "rPC", "mixed"):
        v = np.array([s[key] for s in per_seed], dtype=float)
        out[key] = (float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else float("nan"))
    return out


def recipe_difference(a: dict, b: dict, key: str) -> tuple[float, float]:
    """Difference of two recipes' seed means (a - b) and its standard error sqrt(sd_a²/n_a + sd_b²/n_b).
    A one-seed recipe has no spread of its own: it borrows the other recipe's sd (the same seed-to-seed noise
    is assumed), so one new run can still be read against a recipe measured over seeds; two one-seed recipes
    give nan."""
    (ma, sa), (mb, sb) = a[key], b[key]
    sa, sb = (sb if np.isnan(sa) else sa), (sa if np.isnan(sb) else sb)
    return ma - mb, float(np.sqrt(sa**2 / a["n"] + sb**2 / b["n"]))


def grid_splits(keys) -> list[str]:
    """The LQ grid's "type/severity" splits among a benchmark's split keys: all but clean, the real capture and
    the mixed random chains (what mPC averages)."""
    return [k for k in keys if k not in ("clean", "real") and not k.startswith("mixed/")]


def paired_pck_differences(run: dict, a: str, others: list[str], n_boot: int = 2000, seed: int = 0) -> dict:
    """{other: {"clean" (or "real"), "mPC": ...}}: model `a` minus each other model in PCK@0.2 on one benchmark
    run, each with a 95 % bootstrap interval over people (`metrics.robustness.paired_bootstrap_mpc`): whether
    this test set can tell the two apart. mPC weights each split as `mpc` does (`mpc_weights`). Models without
    PCK on every split (MPII, detected boxes, no torso in the layout) are left out."""
    gt = run["gt"]
    keys = list(run["scores"][a])
    grid = grid_splits(keys)
    parts = [(k, [k], np.ones(1)) for k in ("clean", "real") if k in keys]
    if grid:
        parts.append(("mPC", grid, mpc_weights(grid)))

    def has_pck(model: str) -> bool:
        return all("PCK@0.2" in run["scores"][model][k] for k in keys)

    def counts(model: str) -> dict:  # split -> (hits per person, labelled joints per person), each split once
        return {k: pck_counts(gt, run["scores"][model][k]["_results"]) for s in parts for k in s[1]}

    if not has_pck(a):
        return {}
    ref = counts(a)
    out = {}
    for b in (m for m in others if has_pck(m)):
        other = counts(b)
        out[b] = {
            label: paired_bootstrap_mpc(np.stack([ref[k][0] for k in splits]), np.stack([other[k][0] for k in splits]),
                                        ref[splits[0]][1], weights, n_boot, seed)
            for label, splits, weights in parts
        }  # fmt: skip
    return out


def _fmt(v) -> str:
    return "–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"


def _savefig(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())


def plot_severity(summary: dict, model: str, metric: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fams = sorted({FAMILIES.get(t, "other") for t in summary["grid"]})
    cols = min(3, len(fams)) or 1
    rows = -(-len(fams) // cols) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False, sharey=True)
    for ax, fam in zip(axes.flat, fams, strict=False):
        for name, by_sev in sorted(summary["grid"].items()):
            if FAMILIES.get(name, "other") != fam:
                continue
            sevs = [0] + sorted(by_sev)
            ax.plot(sevs, [summary["clean"]] + [by_sev[s] for s in sorted(by_sev)], marker="o", label=name)
        ax.set_title(fam)
        ax.set_xlabel("severity (0 = clean)")
        ax.set_ylabel(metric)
        ax.set_xticks(range(6))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(fams) :]:
        ax.axis("off")
    fig.suptitle(f"{model}: {metric} vs severity (mPC {_fmt(summary['mPC'])}, rPC {_fmt(summary['rPC'])})")
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    _savefig(fig, path)
    plt.close(fig)


def plot_models(summaries: dict[str, dict], metric: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = ["clean", "mPC"] + sorted({f for s in summaries.values() for f in s["families"]})
    if any(not np.isnan(s["mixed"]) for s in summaries.values()):
        groups.append("mixed")
    if any(s["real"] is not None for s in summaries.values()):
        groups.append("real")
    x = np.arange(len(groups))
    width = 0.8 / max(1, len(summaries))
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(groups) + 2), 4))
    for i, (model, s) in enumerate(summaries.items()):
        vals = [s["clean"] if g == "clean" else s["mPC"] if g == "mPC" else s["mixed"] if g == "mixed"
                else (s["real"] if s["real"] is not None else np.nan) if g == "real" else s["families"].get(g, np.nan)
                for g in groups]  # fmt: skip
        bars = ax.bar(x + (i - (len(summaries) - 1) / 2) * width, vals, width, label=model)
        ax.bar_label(bars, labels=[_fmt(v) for v in vals], fontsize=7, rotation=90, padding=2)
    ax.set_xticks(x, groups, rotation=20)
    ax.set_ylabel(metric)
    ax.set_ylim(0, 1.15 if metric == "AP" else 115)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=min(4, len(summaries)))
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(f"{metric}: clean, mPC, per family")
    _savefig(fig, path)
    plt.close(fig)


def worst_cases(run: dict, model: str, path: Path, n: int = 12, cell: int = 192) -> list[dict]:
    """Grid of the n people with the lowest OKS across the LQ splits: GT in green, prediction in red."""
    gt = run["gt"]
    if gt.spec.sigmas is None:
        return []
    sig = np.asarray(gt.spec.sigmas)
    by_ann = {i.ann_id: i for i in gt.instances}
    cases = []
    for key, m in run["scores"][model].items():
        if key == "clean":
            continue
        for r in m["_results"]:
            inst = by_ann.get(r.get("ann_id"))
            if inst is None or inst.num_visible == 0:
                continue
            pred = np.asarray(r["keypoints"]).reshape(-1, 3)
            cases.append((oks(inst.keypoints, pred, inst.area, sig), key, inst, pred))
    cases.sort(key=lambda c: c[0])
    seen, unique = set(), []
    for c in cases:  # each person once, at its worst split: more people, more to learn from
        if c[2].ann_id not in seen:
            seen.add(c[2].ann_id)
            unique.append(c)
    cases = unique[:n]
    if not cases:
        return []
    cols = 4
    rows = -(-len(cases) // cols)
    canvas = np.full((rows * (cell + 22), cols * cell, 3), 255, np.uint8)
    for k, (score, key, inst, pred) in enumerate(cases):
        img = read_rgb(Path(run["bench"]) / key / f"{Path(inst.image_path).stem}.png")
        x, y, w, h = inst.bbox
        side = max(w, h) * 1.2
        x0, y0 = x + w / 2 - side / 2, y + h / 2 - side / 2
        s = cell / side
        m = np.array([[s, 0, -x0 * s], [0, s, -y0 * s]], np.float32)
        crop = cv2.warpAffine(img, m, (cell, cell), flags=cv2.INTER_LINEAR)
        for pts, color, thr in ((inst.keypoints, (0, 200, 0), 0.0), (pred, (230, 30, 30), 0.1)):
            xy = pts[:, :2] * s + [-x0 * s, -y0 * s]
            for a, b in gt.spec.skeleton:
                if pts[a, 2] > thr and pts[b, 2] > thr:
                    cv2.line(crop, tuple(np.round(xy[a]).astype(int)), tuple(np.round(xy[b]).astype(int)), color, 2,
                             cv2.LINE_AA)  # fmt: skip
        r, c = divmod(k, cols)
        canvas[r * (cell + 22) + 22 : r * (cell + 22) + 22 + cell, c * cell : (c + 1) * cell] = crop
        cv2.putText(canvas, f"{key} OKS {score:.2f}", (c * cell + 4, r * (cell + 22) + 16), cv2.FONT_HERSHEY_SIMPLEX,
                    0.42, (0, 0, 0), 1, cv2.LINE_AA)  # fmt: skip
    write_image(path, canvas)
    return [{"oks": c[0], "split": c[1], "ann_id": c[2].ann_id} for c in cases]


def write_report(run: dict, report_dir: str | Path, boxes: str = "ground-truth boxes") -> dict:
    """Write report.md, results.csv and the PNGs; return the per-model summaries."""
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    gt, manifest = run["gt"], run["manifest"]
    metric = _main_metric(gt)
    summaries = {model: summarize(scores, metric) for model, scores in run["scores"].items()}
    lines = [
        "# LQ pose benchmark report",
        "",
        f"- benchmark: `{run['bench']}` — dataset {manifest['dataset']}, keypoints {manifest['keypoints']}, "
        f"seed {manifest['seed']}, built by lqpose {manifest['lqpose_version']}, stored as {manifest['storage']}",
        f"- people scored: {len(run['people'])} ({boxes}); metric: {metric}"
        + (" (pycocotools COCOeval, layout sigmas)" if metric == "AP" else " (@0.5)"),
        "- mPC = mean over types of the mean over severities; rPC = mPC / clean; mixed and real splits are "
        "reported beside mPC, not inside it.",
        "",
        "## Summary",
        "",
    ]
    fams = sorted({f for s in summaries.values() for f in s["families"]})
    head = ["model", "clean", "mPC", "rPC", *fams, "mixed", "real"]
    lines += ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    for model, s in summaries.items():
        vals = [s["clean"], s["mPC"], s["rPC"], *[s["families"].get(f) for f in fams], s["mixed"], s["real"]]
        lines.append(f"| {model} | " + " | ".join(_fmt(v) for v in vals) + " |")
    rows_csv = []
    for model, s in summaries.items():
        sevs = sorted({sv for by in s["grid"].values() for sv in by})
        if s["grid"]:
            lines += ["", f"## {model}: {metric} per type and severity", ""]
            head = ["type", "family", *[f"s{v}" for v in sevs], "mean"]
            lines += ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
            for name, by in s["grid"].items():
                cells = [_fmt(by.get(v)) for v in sevs]
                lines.append(
                    f"| {name} | {FAMILIES.get(name, '')} | "
                    + " | ".join(cells)
                    + f" | {_fmt(np.mean(list(by.values())))} |"
                )
            plot_severity(s, model, metric, report_dir / f"severity_{model.replace('/', '_')}.png")
            lines += ["", f"![{metric} vs severity](severity_{model.replace('/', '_')}.png)"]
        for key, m in run["scores"][model].items():
            rows_csv.append({"model": model, "split": key, metric: m[metric]})
        per_kp = {k: m.get("per_keypoint") for k, m in run["scores"][model].items() if m.get("per_keypoint")}
        if per_kp:
            ref = "clean" if "clean" in per_kp else "real"
            clean_kp = per_kp.get(ref) or {}
            lq = [v for k, v in per_kp.items() if k not in ("clean", "real")]
            lines += ["", f"## {model}: per-keypoint similarity (mean OKS term)", ""]
            lines += [f"| keypoint | {ref} | LQ mean |", "| --- | --- | --- |"]
            for name in gt.spec.names:
                vals = np.array([v[name] for v in lq], dtype=float)  # a joint unlabelled everywhere: all NaN
                lq_mean = float(np.nanmean(vals)) if np.isfinite(vals).any() else float("nan")
                lines.append(f"| {name} | {_fmt(clean_kp.get(name))} | {_fmt(lq_mean)} |")
    models = list(summaries)
    diffs = paired_pck_differences(run, models[0], models[1:])
    if diffs:
        first_diff = next(iter(diffs.values()))
        labels, people = list(first_diff), first_diff[next(iter(first_diff))]["n"]  # those with a labelled torso
        lines += ["", f"## Paired differences: {models[0]} minus each other model", "",
                  f"PCK@0.2, with a 95 % bootstrap interval over the {people} people (2,000 resamples of "
                  "the same people for both models): what this test set can resolve, not seed-to-seed noise.", "",
                  "| model | " + " | ".join(f"{lab}: difference [95 % interval]" for lab in labels) + " |",
                  "| --- | " + " | ".join("---" for _ in labels) + " |"]  # fmt: skip
        for other, d in diffs.items():
            cells = [f"{d[lab]['diff']:+.3f} [{d[lab]['lo']:+.3f}, {d[lab]['hi']:+.3f}]" for lab in labels]
            lines.append(f"| {other} | " + " | ".join(cells) + " |")
    if len(summaries) >= 1:
        plot_models(summaries, metric, report_dir / "models.png")
        lines += ["", "## Models compared", "", "![models](models.png)"]
    ours = [m for m, kind in run.get("sources", {}).items() if kind == "CheckpointModel"]
    first = ours[0] if ours else next(iter(run["scores"]))
    worst = worst_cases(run, first, report_dir / "worst_cases.png")
    if worst:
        lines += ["", f"## Worst cases of {first} (green: ground truth, red: prediction)", "",
                  "![worst cases](worst_cases.png)"]  # fmt: skip
    write_text(report_dir / "report.md", "\n".join(lines) + "\n")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, ["model", "split", metric])
    writer.writeheader()
    writer.writerows(rows_csv)
    write_text(report_dir / "results.csv", buf.getvalue())
    return summaries
