"""``spheres report``: write the what-if report of collected sweeps, and the function behind it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from spheres.errors import ReportError
from spheres.report.explore import EXPLORE_JSON, exploration
from spheres.report.explore import section as section_of_exploration
from spheres.report.study import STUDY_JSON, section
from spheres.report.sweep import load
from spheres.report.whatif import build
from spheres.report.writers import write_doc, write_json
from spheres.studies.registry import STUDIES, study_of


def write_report(sweep_dirs: Sequence[Path | str], out: Path | str | None = None,
                 baseline: str | None = None) -> Path:
    """Write ``report.html``, ``report.md`` and the PNG figures into ``out``; return the HTML.

    A single sweep of a named study (``runs.experiment`` in ``spheres.studies.registry.STUDIES``)
    opens with the study's section and also gets ``study.json``; an exploration of a study
    (``spheres explore``) opens with its verdict and where it holds, and gets ``explore.json``.
    ``out`` defaults to the first sweep directory. Every file is written under a temporary name
    and renamed when complete.
    """
    sweep = load(sweep_dirs)
    found = exploration(sweep_dirs[0]) if len(sweep_dirs) == 1 else None
    doc, title = build(sweep, baseline, explored=found is not None)
    study = study_of(sweep_dirs) if found is None else None
    summary = explored = None
    if found is not None:  # an exploration: its verdict opens the report, after the title
        opening, explored = section_of_exploration(found)
        doc.blocks[1:1] = opening.blocks
        title = f"{STUDIES[found.problem['experiment']].title}, where it holds — {title}"
        doc.blocks[0] = ("heading", (1, title))
    elif study is not None:  # a named study: its section opens the report, after the title
        opening, summary = section(study, sweep_dirs[0])
        doc.blocks[1:1] = opening.blocks
        title = f"{study.title} — {title}"
        doc.blocks[0] = ("heading", (1, title))
    target = Path(out) if out is not None else Path(sweep_dirs[0])
    target.mkdir(parents=True, exist_ok=True)
    # an earlier report's findings must not pass for this report's
    for name, content in ((STUDY_JSON, summary), (EXPLORE_JSON, explored)):
        if content is not None:
            write_json(target / name, content)
        else:
            (target / name).unlink(missing_ok=True)
    return write_doc(doc, title, target)


def parser() -> argparse.ArgumentParser:
    """Return the command-line options of ``spheres report``."""
    p = argparse.ArgumentParser(
        prog="spheres report",
        description="Write a what-if report of one or several collected sweeps (run `spheres "
                    "collect SWEEP_DIR` first): report.html (self-contained, figures embedded), "
                    "report.md and its PNG figures. Scenarios are the combinations of swept "
                    "overrides other than seed; each is compared with the baseline scenario "
                    "(mean and 95% bootstrap interval across seeds). The sweep of a named study "
                    "(spheres run -m experiment=q1_decline ...) opens with the study's section "
                    "(question, readings, key numbers, figures) and also gets study.json.")
    p.add_argument("sweep_dirs", metavar="SWEEP_DIR", nargs="+", type=Path,
                   help="a sweep directory holding sweep.duckdb")
    p.add_argument("--baseline", metavar="NAME",
                   help="the baseline scenario: its name (e.g. 'market=fast_drift') or a "
                        "substring of exactly one name; default: the first scenario")
    p.add_argument("--out", metavar="DIR", type=Path,
                   help="where to write the report (default: the first SWEEP_DIR)")
    return p


def report_main(argv: Sequence[str]) -> int:
    """Run ``spheres report SWEEP_DIR [SWEEP_DIR ...] [--baseline NAME] [--out DIR]``.

    Returns the exit code: 0, or that of a :class:`~spheres.errors.ReportError` (its one-line
    message printed).
    """
    args = parser().parse_args(list(argv))
    try:
        path = write_report(args.sweep_dirs, out=args.out, baseline=args.baseline)
    except ReportError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    print(f"report: {path} (and report.md, PNG figures)")
    return 0
