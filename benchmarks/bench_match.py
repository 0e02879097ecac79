"""Benchmark: suggest_matches for tracker client/project names against a large customer list.

Times ``qbrecon.suggest_matches`` (normalization, exact hits first, chunked cdist on
unique keys, ranking, bands, flags) against one bare
``rapidfuzz.process.cdist(token_sort_ratio, workers=-1)`` pass over the same strings
(every tracker "Client:Project" against every QuickBooks full name), in the same run, and
prints the ratio and the peak memory of each. Each side runs in a fresh process so its
peak memory is its own.

The data is synthetic and deterministic: ``--customers`` QuickBooks customers (top-level
companies with legal suffixes, each with jobs whose names recur across companies, as
"Website Redesign" does in real lists) and ``--sources`` tracker client/project names:
most spelled as in QuickBooks up to case, accents, "&"/"and" and legal suffixes, some
with a typo, some with no QuickBooks record.

    python benchmarks/bench_match.py                      # 5,000 names vs 50,000 customers
    python benchmarks/bench_match.py --sources 500 --customers 5000   # quick
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import pickle
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

WORDS = ["acme", "apex", "atlas", "aurora", "beacon", "birch", "blue", "bright", "cedar", "coastal", "copper", "crest", "delta", "eagle", "ember", "evergreen", "falcon", "fern", "frontier", "garnet", "granite", "harbor", "hawk", "horizon", "iron", "juniper", "keystone", "lake", "laurel", "liberty", "lumen", "maple", "meridian", "metro", "nova", "oak", "orion", "pacific", "peak", "pine", "pioneer", "prairie", "quartz", "raven", "redwood", "ridge", "river", "rock", "sage", "sierra", "silver", "spruce", "summit", "sun", "terra", "timber", "true", "union", "valley", "vista", "willow", "zenith"]
TRADES = ("Dental Group", "Partners", "Design", "Bakery", "Logistics", "Consulting", "Studio",
          "Holdings", "Foods", "Builders", "Clinic", "Media", "Labs", "Outfitters", "Tekstil")
SUFFIXES = ("LLC", "Inc.", "Ltd", "Co.", "Corp.", "", "", "", "A.Ş.", "S.L.", "GmbH")
JOBS = ("Website Redesign", "Brand Refresh", "Annual Report", "Q4 Campaign", "Maintenance",
        "Patient Portal", "Market Research", "Catalog", "Showroom Signage", "Mobile App",
        "Audit", "Tax Return", "Payroll Setup", "Photography", "Menu Design", "SEO Retainer",
        "Office Move", "Onboarding", "Data Migration", "Training")


def make_data(n_sources: int, n_customers: int, *, seed: int = 11,
              mix: tuple[float, float, float] = (0.65, 0.20, 0.15)):
    """(entries, lists, baseline source strings, baseline QuickBooks strings, truth)."""
    from qbrecon import schema as S
    from qbrecon.qblists import QBLists

    rng = np.random.default_rng(seed)
    jobs_per = 28  # some repeat under one parent and are dropped: ~24 distinct remain
    n_parents = max(1, n_customers // 25)
    names, seen = [], set()
    while len(names) < n_parents:
        w = rng.choice(WORDS, size=2, replace=False)
        base = f"{w[0].title()} {w[1].title()} {rng.choice(TRADES)}"
        if base in seen:
            base = f"{base} {len(names)}"
        seen.add(base)
        names.append(base)
    parents = np.array(names, dtype=object)
    suffix = np.array(SUFFIXES, dtype=object)[rng.integers(0, len(SUFFIXES), n_parents)]
    parent_full = np.where(suffix != "", parents + np.where(np.isin(suffix, ["LLC", "Inc."]), ", ", " ")
                           + suffix, parents)
    # jobs: a shared vocabulary plus a year or phase, unique under each parent
    p_idx = np.repeat(np.arange(n_parents), jobs_per)
    j = rng.integers(0, len(JOBS), p_idx.size)
    tag = np.array([f" {y}" for y in range(2020, 2030)] + [f" Phase {k}" for k in range(1, 9)],
                   dtype=object)[rng.integers(0, 18, p_idx.size)]
    job = np.array(JOBS, dtype=object)[j] + tag
    jobs = pd.DataFrame({"p": p_idx, "job": job}).drop_duplicates().reset_index(drop=True)
    top = pd.DataFrame({S.QB_ID: [f"P{i}" for i in range(n_parents)], S.NAME: parent_full,
                        S.FULL_NAME: parent_full, S.PARENT_ID: "", S.LEVEL: 0, S.ACTIVE: True})
    kids = pd.DataFrame({
        S.QB_ID: [f"J{i}" for i in range(len(jobs))], S.NAME: jobs["job"].to_numpy(),
        S.FULL_NAME: parent_full[jobs["p"].to_numpy()] + ":" + jobs["job"].to_numpy(),
        S.PARENT_ID: [f"P{p}" for p in jobs["p"]], S.LEVEL: 1, S.ACTIVE: True,
    })
    customers = pd.concat([top, kids], ignore_index=True).iloc[:n_customers]
    kids = kids[kids[S.QB_ID].isin(customers[S.QB_ID])]
    # tracker names (default mix): 65% as in QuickBooks up to spelling rules, 20% with a
    # typo, 15% with no QuickBooks record
    pick = kids.sample(n=min(n_sources, len(kids)), random_state=seed).reset_index(drop=True)
    kind = rng.choice(["same", "typo", "new"], size=len(pick), p=list(mix))
    client = pick[S.FULL_NAME].str.split(":").str[0]
    client = client.str.replace(r",? (LLC|Inc\.|Ltd|Co\.|Corp\.|GmbH|S\.L\.|A\.Ş\.)$", "", regex=True)
    flip = rng.random(len(pick)) < 0.3
    client = client.where(~flip, client.str.upper())
    project = pick[S.NAME].copy()
    typo = kind == "typo"
    pos = (project.str.len() * 0.5).astype(int)
    project = project.where(~typo, [p[:i] + p[i + 1:] for p, i in zip(project, pos, strict=True)])
    new = kind == "new"
    project = project.where(~new, "Unlisted " + project + " " + pd.Series(np.arange(len(pick))).astype(str))
    truth = pd.Series(np.where(new, "", pick[S.QB_ID]), dtype=object)
    per = 4
    n = len(pick) * per
    idx = np.repeat(np.arange(len(pick)), per)
    entries = pd.DataFrame({
        S.ENTRY_ID: [f"e{i}" for i in range(n)], S.SOURCE: "clockify", S.ROW: np.arange(n) + 2,
        S.USER: "Ada Lovelace", S.EMAIL: "", S.CLIENT: client.to_numpy()[idx],
        S.PROJECT: project.to_numpy()[idx], S.TASK: "", S.DESCRIPTION: "", S.TAGS: "",
        S.DATE: pd.Timestamp("2026-11-02"), S.START: pd.NaT, S.END: pd.NaT,
        S.DURATION: pd.to_timedelta(rng.integers(900, 8 * 3600, n), unit="s"),
        S.BILLABLE: True, S.BILLABLE_RATE: np.nan, S.APPROVED: pd.NA,
    })
    entries = S.conform(entries, S.ENTRY_DTYPES, what="entries")
    lists = QBLists(customers=customers)
    source_strings = (client + ":" + project).tolist()
    truth_frame = pd.DataFrame({"source_name": source_strings, "qb_id": truth})
    return entries, lists, source_strings, customers[S.FULL_NAME].tolist(), truth_frame


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def _run_baseline(data_file: str, queue) -> None:
    from rapidfuzz import fuzz, process

    with open(data_file, "rb") as f:
        _, _, src, qb, _ = pickle.load(f)
    before = _peak_rss_mb()
    t = time.perf_counter()
    m = process.cdist(src, qb, scorer=fuzz.token_sort_ratio, workers=-1)
    elapsed = time.perf_counter() - t
    queue.put({"seconds": elapsed, "peak_rss_mb": _peak_rss_mb(), "rss_before_mb": before,
               "result_mb": m.nbytes / 2**20})


def _run_suggest(data_file: str, queue) -> None:
    import qbrecon

    with open(data_file, "rb") as f:
        entries, lists, _, _, truth = pickle.load(f)
    qbrecon.suggest_matches(entries.head(8), lists)  # warm imports, not the data
    before = _peak_rss_mb()
    t = time.perf_counter()
    s = qbrecon.suggest_matches(entries, lists)
    elapsed = time.perf_counter() - t
    cust = s[(s["kind"] == "customer") & (s["rank"] == 1)]
    got = truth.merge(cust[["source_name", "qb_id", "band"]], on="source_name",
                      suffixes=("_true", ""))
    auto = qbrecon.accept_matches(s)
    auto = truth.merge(auto[["source_name", "qb_id"]], on="source_name", suffixes=("_true", ""))
    queue.put({
        "seconds": elapsed, "peak_rss_mb": _peak_rss_mb(), "rss_before_mb": before,
        "rows": len(s),
        "rank1_correct": float((got.loc[got["qb_id_true"] != "", "qb_id_true"]
                                == got.loc[got["qb_id_true"] != "", "qb_id"]).mean()),
        "new_names": int((got["qb_id_true"] == "").sum()),
        "auto": len(auto), "auto_wrong": int((auto["qb_id_true"] != auto["qb_id"]).sum()),
        "bands": cust["band"].value_counts().to_dict(),
    })


def _in_child(target, data_file: str) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(data_file, q))
    p.start()
    out = q.get()
    p.join()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sources", type=int, default=5_000, help="tracker client/project names")
    ap.add_argument("--customers", type=int, default=50_000, help="QuickBooks customers")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--mix", default="0.65,0.20,0.15",
                    help="shares of tracker names spelled as in QuickBooks, with a typo, and "
                         "with no record (default 0.65,0.20,0.15; 0,1,0 is the worst case: "
                         "nothing resolves before fuzzy scoring)")
    args = ap.parse_args(argv)
    mix = tuple(float(x) for x in args.mix.split(","))
    entries, lists, src, qb, truth = make_data(args.sources, args.customers, seed=args.seed,
                                               mix=mix)
    print(f"{len(src):,} tracker client/project names ({len(entries):,} entries) "
          f"vs {len(qb):,} QuickBooks customers")
    with tempfile.TemporaryDirectory() as tmp:
        data_file = str(Path(tmp) / "data.pickle")
        with open(data_file, "wb") as f:
            pickle.dump((entries, lists, src, qb, truth), f)
        base = _in_child(_run_baseline, data_file)
        ours = _in_child(_run_suggest, data_file)
    print(f"bare cdist(token_sort_ratio, workers=-1): {base['seconds']:8.2f} s   "
          f"peak RSS {base['peak_rss_mb']:7.0f} MB (score matrix alone {base['result_mb']:.0f} MB)")
    print(f"suggest_matches:                          {ours['seconds']:8.2f} s   "
          f"peak RSS {ours['peak_rss_mb']:7.0f} MB (before the call {ours['rss_before_mb']:.0f} MB)")
    ratio = ours["seconds"] / base["seconds"]
    print(f"ratio suggest_matches / bare cdist: {ratio:.2f}  (target <= 1.0)")
    print(f"peak memory of suggest_matches: {ours['peak_rss_mb'] / 1024:.2f} GB  (target < 1 GB)")
    print(f"quality: rank-1 correct {ours['rank1_correct']:.1%} of the names QuickBooks has; "
          f"{ours['new_names']:,} names it has not; auto-accepted {ours['auto']:,}, wrong "
          f"{ours['auto_wrong']}; rank-1 bands {ours['bands']}")
    return 0 if ratio <= 1.0 and ours["peak_rss_mb"] < 1024 else 1


if __name__ == "__main__":
    sys.exit(main())
