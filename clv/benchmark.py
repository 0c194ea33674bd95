"""Fit-time benchmark at 1M customers: `python -m clv.benchmark [--customers N] [--seed S]`.

Summaries are drawn straight from the BG/NBD + Gamma-Gamma processes (CDNOW parameters, 27-39
weeks of observation), once in continuous time (every row distinct) and once rounded to whole
days as `summary_from_transactions` produces them (identical rows compress). The baseline, timed
in the same run, is one vectorised pass of the BG/NBD log-likelihood over all customers; the
ratio "fit / baseline" is what to compare across machines. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from clv import bgnbd, gamma_gamma, load_config, simulate
from clv.bgnbd import BgNbdParams
from clv.gamma_gamma import GammaGammaParams

TRUTH = BgNbdParams(0.243, 4.414, 0.793, 2.426)
SPEND = GammaGammaParams(6.25, 3.74, 15.44)


CPU_SECONDS: list[float] = []


def _timed(fn):
    """Wall-clock seconds (returned) and process CPU seconds (appended to CPU_SECONDS): on a
    shared machine the second shows the work done, the first what a user waits."""
    started, cpu = time.perf_counter(), time.process_time()
    value = fn()
    CPU_SECONDS.append(time.process_time() - cpu)
    return value, time.perf_counter() - started


def run(customers: int, seed: int) -> list[str]:
    config = load_config()
    rng = np.random.default_rng(seed)
    summary, simulate_s = _timed(
        lambda: simulate.simulate_summaries(TRUTH, rng.uniform(27, 39, customers), rng, SPEND)
    )
    x, t_x, T = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    _, baseline_s = _timed(lambda: bgnbd.log_likelihood(TRUTH, x, t_x, T).sum())
    rows = [
        f"| simulate {customers:,} summaries | {simulate_s:.2f} s | {CPU_SECONDS[0]:.2f} s | |",
        f"| baseline: one BG/NBD log-likelihood pass | {baseline_s:.3f} s "
        f"| {CPU_SECONDS[1]:.3f} s | 1 |",
    ]
    variants = {
        "continuous time (all rows distinct)": (t_x, T),
        "whole days (as from transactions)": (np.round(t_x * 7) / 7, np.round(T * 7) / 7),
    }
    for label, (recency, age) in variants.items():
        fit, seconds = _timed(lambda r=recency, a=age: bgnbd.fit(x, r, a, config.optimizer))
        d = fit.diagnostics
        params = ", ".join(f"{k}={v:.3f}" for k, v in fit.params.as_dict().items())
        rows.append(
            f"| BG/NBD fit, {label}: {d.n_unique_rows:,} distinct rows, {d.iterations} "
            f"iterations, {params} | {seconds:.2f} s | {CPU_SECONDS[-1]:.2f} s "
            f"| {seconds / baseline_s:.0f} |"
        )
    repeat = x > 0
    m = summary["monetary_value"].to_numpy()
    spend_fit, spend_s = _timed(lambda: gamma_gamma.fit(x[repeat], m[repeat], config.optimizer))
    params = ", ".join(f"{k}={v:.3f}" for k, v in spend_fit.params.as_dict().items())
    rows.append(
        f"| Gamma-Gamma fit, {int(repeat.sum()):,} repeat customers, {params} "
        f"| {spend_s:.2f} s | {CPU_SECONDS[-1]:.2f} s | {spend_s / baseline_s:.0f} |"
    )
    _, predict_s = _timed(
        lambda: (
            bgnbd.p_alive(fit.params, x, t_x, T),
            bgnbd.expected_purchases(fit.params, config.horizon_units, x, t_x, T),
        )
    )
    rows.append(
        f"| p_alive + expected purchases (12 m), {customers:,} customers "
        f"| {predict_s:.2f} s | {CPU_SECONDS[-1]:.2f} s | {predict_s / baseline_s:.0f} |"
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, numpy {np.__version__}")
    print("| step | wall | CPU | wall × baseline |\n| --- | --- | --- | --- |")
    print("\n".join(run(args.customers, args.seed)))


if __name__ == "__main__":
    main()
