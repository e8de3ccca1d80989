"""The report: the results as JSON, a Markdown table on stdout and a PNG chart."""

import json
import shutil
from datetime import UTC, datetime


def save(results, directory, *, stamp=None):
    """`bench-<time>.json` and `.png` in `directory`, copied to `latest.json` / `latest.png`."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = stamp or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for path in (directory / f"bench-{stamp}.json", directory / "latest.json"):
        path.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    try:
        chart(results, directory / "latest.png")
    except ImportError:
        print("matplotlib is not installed (pip install -r bench/requirements.txt): no chart")
        return
    shutil.copy(directory / "latest.png", directory / f"bench-{stamp}.png")


def print_table(results):
    if "load" in results:
        print(
            "\n| endpoint | req/s | p50 ms | p99 ms | x health/live/ | CPU ms / request |"
            " x health/live/ by CPU | non-2xx | check |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for name, r in results["load"].items():
            print(
                f"| {name} | {r['rps']:.0f} | {r['p50_ms']} | {r['p99_ms']} | "
                f"{r['ratio_to_live']:.2f} | {cpu(r)} | {r.get('cpu_ratio_to_live', '-')} | "
                f"{r['non_2xx']} | {verdict(r)} |"
            )
    print("\n| table rows | owner-list p50 ms | p99 ms | CPU ms / request | check |")
    print("|---:|---:|---:|---:|---|")
    for r in results["owner_list"]:
        print(f"| {r['table_rows']:,} | {r['p50_ms']} | {r['p99_ms']} | {cpu(r)} | {verdict(r)} |")
    for key in ("export", "rss_per_worker_mib", "seed_demo_1m_seconds"):
        if key in results:
            print(f"{key}: {results[key]}")
    for failure in results.get("failed_checks", []):
        print(f"FAILED CHECK: {failure}")


def cpu(result):
    """CPU ms per request of gunicorn, PostgreSQL and Redis together (see bench/measure.py)."""
    return f"{result['cpu_ms_per_request']:.2f}" if "cpu_ms_per_request" in result else "-"


def verdict(result):
    return "ok" if result.get("check") == "ok" else "FAILED"


def chart(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    if "load" in results:
        names = list(results["load"])
        rps = [results["load"][n]["rps"] for n in names]
        bars = left.bar(names, rps, color="#4c72b0")
        for bar, name in zip(bars, names, strict=True):
            ratio = results["load"][name]["ratio_to_live"]
            left.annotate(
                f"{ratio:.2f}x\n{cpu(results['load'][name])} ms",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center", va="bottom", fontsize=8,
            )  # fmt: skip
        left.margins(y=0.15)  # room for the labels over the tallest bar
        left.set_ylabel("requests/s")
        left.set_title("Throughput, 2 gunicorn workers (x health/live/, CPU ms / request)")
        left.tick_params(axis="x", rotation=20)
    rows = [r["table_rows"] for r in results["owner_list"]]
    right.plot(rows, [r["p50_ms"] for r in results["owner_list"]], "o-", label="p50")
    right.plot(rows, [r["p99_ms"] for r in results["owner_list"]], "s--", label="p99")
    right.set_xscale("log")
    right.set_xlabel("rows in the items table")
    right.set_ylabel("ms")
    right.set_title("One owner's list (10k items), uncached, one client")
    for r in results["owner_list"]:
        right.annotate(
            f"{cpu(r)} CPU ms", (r["table_rows"], r["p50_ms"]),
            textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8,
        )  # fmt: skip
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
