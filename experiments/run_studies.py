"""Run the named studies one after another, time each, write its report and keep its figures.

For each study (``configs/experiment/q*.yaml`` and the Sobol studies ``sensitivity_q*.yaml``)
this runs ``spheres run -m experiment=<study>`` into ``OUT/<study>``, then ``spheres report
OUT/<study>``; for each exploration ``explore_<study>`` (where the study's answer holds) it runs
``spheres explore experiment=<study>`` into ``OUT/explore_<study>`` and its report. It prints a
table: runs, wall time of the sweep (from start to collected store) and of the report, and the
machine's load average when the sweep ended. The times also go to ``OUT/times.json`` (entries
of studies not run this time are kept). With ``--figures DIR`` the report's figures named in
``study.json`` (for a Sobol study, ``sensitivity.png``; for an exploration, ``holds_where.png``)
are copied to ``DIR/<study>/``, as in ``docs/findings``.

    python experiments/run_studies.py --out outputs/studies --figures docs/findings
    python experiments/run_studies.py --only q1_decline,q4_scores --size tiny
    python experiments/run_studies.py --only explore_q2_strategy --size tiny
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from spheres.analysis.store import Store
from spheres.explore.design import explorable
from spheres.paths import DATABASE, config_dir
from spheres.report.explore import EXPLORE_JSON, FIGURE

EXPLORE = "explore_"  # an exploration's name: this, then its study's


def studies() -> list[str]:
    """Every study: the seven questions, the Sobol studies, then the explorations.

    The questions and Sobol studies are files of ``configs/experiment``; an exploration maps the
    answer of a question that has a verdict.
    """
    folder = config_dir() / "experiment"
    return ([p.stem for p in sorted(folder.glob("q[0-9]_*.yaml"))]
            + [p.stem for p in sorted(folder.glob("sensitivity_q*.yaml"))]
            + [EXPLORE + name for name in explorable()])


def spheres(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a ``spheres`` command of this interpreter's environment; stderr passes through."""
    command = [str(Path(sys.executable).with_name("spheres")), *args]
    return subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)


def runs_of(sweep_dir: Path) -> tuple[int, int]:
    """Complete runs and all runs of a collected sweep."""
    with Store(sweep_dir / DATABASE) as store:
        counts = store.df("SELECT count(*) FILTER (status = 'ok') AS ok, count(*) AS total "
                          "FROM runs")
    return int(counts.ok[0]), int(counts.total[0])


def figures_of(sweep_dir: Path) -> list[str]:
    """The figures a study's report names in ``study.json``, or the Sobol indices' figure."""
    study = sweep_dir / "study.json"
    if study.is_file():
        return list(json.loads(study.read_text(encoding="utf-8"))["figures"])
    if (sweep_dir / EXPLORE_JSON).is_file():
        return [FIGURE]
    return ["sensitivity.png"] if (sweep_dir / "sensitivity.png").is_file() else []


def run_study(name: str, out: Path, extra: list[str]) -> dict[str, object]:
    """Run one study and its report; return what was measured."""
    sweep_dir = out / name
    if sweep_dir.exists():
        shutil.rmtree(sweep_dir)  # a study's directory holds one sweep, never a resumed mix
    start = time.perf_counter()
    command = (["explore", f"experiment={name.removeprefix(EXPLORE)}"]
               if name.startswith(EXPLORE) else ["run", "-m", f"experiment={name}"])
    done = spheres(*command, *extra, f"hydra.sweep.dir={sweep_dir}")
    sweep_s = time.perf_counter() - start
    if done.returncode != 0 or not (sweep_dir / DATABASE).is_file():
        raise SystemExit(f"error: the study {name} failed (exit {done.returncode}); its runs "
                         f"and log are in {sweep_dir}")
    load = os.getloadavg()[0]
    start = time.perf_counter()
    report = spheres("report", str(sweep_dir))
    report_s = time.perf_counter() - start
    if report.returncode != 0:
        raise SystemExit(f"error: the report of {name} failed (exit {report.returncode})")
    ok, total = runs_of(sweep_dir)
    return {"study": name, "runs_ok": ok, "runs": total, "sweep_s": round(sweep_s, 1),
            "report_s": round(report_s, 1), "load_at_end": round(load, 2),
            "figures": figures_of(sweep_dir)}


def main(argv: list[str] | None = None) -> int:
    """Run the studies given (all by default) and print their times."""
    every = studies()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/studies"),
                        help="where each study's sweep and report go (default outputs/studies)")
    parser.add_argument("--only", default=",".join(every),
                        help=f"comma-separated studies to run (default all: {', '.join(every)})")
    parser.add_argument("--size", choices=["tiny"],
                        help="run the small version of each question's study (size=tiny); "
                             "the Sobol studies then use 200 buyers, 25 steps and n=4, the "
                             "explorations 200 buyers, 25 steps and 8 samples")
    parser.add_argument("--figures", type=Path,
                        help="copy each report's figures here, into <study>/")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in every]
    if unknown or not chosen:
        parser.error(f"--only: {', '.join(unknown) or 'nothing given'} is not a study; "
                     f"one of {', '.join(every)}")
    args.out.mkdir(parents=True, exist_ok=True)
    measured = []
    for name in chosen:
        extra: list[str] = []
        if args.size == "tiny":
            extra = (["n_buyers=200", "steps=25", "hydra.sweeper.n=4"]
                     if name.startswith("sensitivity_") else
                     ["n_buyers=200", "steps=25", "hydra.sweeper.samples=8"]
                     if name.startswith(EXPLORE) else ["size=tiny"])
        print(f"{name}: running", file=sys.stderr, flush=True)
        found = run_study(name, args.out, extra)
        measured.append(found)
        print(f"{name}: {found['runs_ok']}/{found['runs']} runs in {found['sweep_s']} s, "
              f"report {found['report_s']} s", file=sys.stderr, flush=True)
        if args.figures is not None:
            (args.figures / name).mkdir(parents=True, exist_ok=True)
            for figure in found["figures"]:
                shutil.copyfile(args.out / name / figure, args.figures / name / figure)
    times = args.out / "times.json"
    kept = json.loads(times.read_text(encoding="utf-8")) if times.is_file() else []
    ran = {m["study"] for m in measured}
    merged = [m for m in kept if m["study"] not in ran] + measured
    merged.sort(key=lambda m: every.index(m["study"]) if m["study"] in every else len(every))
    times.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")
    print(f"{'study':<22} {'runs':>9} {'sweep (s)':>10} {'report (s)':>11} {'load':>6}")
    for m in measured:
        print(f"{m['study']:<22} {m['runs_ok']:>4}/{m['runs']:<4} {m['sweep_s']:>10} "
              f"{m['report_s']:>11} {m['load_at_end']:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
