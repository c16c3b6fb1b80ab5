"""spheres explore: a study's settings sampled over their ranges, each sample's verdict, PRIM's
boxes, the store's tables and the report that leads with the verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from spheres.analysis.figures import png
from spheres.config.validate import settings
from spheres.errors import ConfigError
from spheres.explore import design as designs
from spheres.explore.analysis import BOX_COLUMNS, Exploration
from spheres.explore.design import Dimension
from spheres.explore.figures import verdict_figure
from spheres.explore.regions import MIN_COVERAGE, find_box, importance
from spheres.studies.registry import STUDIES

SPHERES = str(Path(sys.executable).with_name("spheres"))
SMALL = ["n_buyers=100", "steps=20"]


def spheres(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SPHERES, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)


# -- the design ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(n for n, s in STUDIES.items() if s.verdict))
def test_every_verdict_varies_declared_settings_over_their_ranges(name: str) -> None:
    verdict = STUDIES[name].verdict
    known = {s.name: s for s in settings()}
    dims = designs.dimensions(verdict)
    design = designs.sample(dims, 40, seed=1)
    assert len(design) == 40 and list(design["seed"]) == list(range(40))
    for dim in dims:
        column = design[dim.key]
        if dim.categorical:
            counts = column.value_counts()
            assert set(counts.index) == set(dim.options)
            assert counts.max() - counts.min() <= 1  # a Latin hypercube: each option as often
            continue
        low, high = known[dim.key].spec.tries
        assert column.min() >= low and column.max() <= high
        if dim.integer:
            assert (column == column.round()).all()
        # one sample in each of the 40 strata of the range (on the dimension's scale)
        scale = np.log if dim.log else (lambda v: v)
        u = (scale(column.astype(float)) - scale(low)) / (scale(high) - scale(low))
        if not dim.integer:
            assert sorted(np.floor(u * 40).astype(int)) == list(range(40))


def test_wide_positive_ranges_are_sampled_on_a_log_scale() -> None:
    dims = {d.key: d for d in designs.dimensions(STUDIES["q2_strategy"].verdict)}
    assert dims["market.ad_rate"].log and dims["sellers.ad_cost"].log
    assert not dims["market.frontier_speed"].log  # starts at 0
    design = designs.sample(list(dims.values()), 64, seed=0)
    # on a log scale from 0.01 to 1, half the samples lie below 0.1
    assert 28 <= int((design["market.ad_rate"] < 0.1).sum()) <= 36


def test_the_design_is_fixed_by_its_seed() -> None:
    dims = designs.dimensions(STUDIES["q1_decline"].verdict)
    first, again = designs.sample(dims, 16, 3), designs.sample(dims, 16, 3)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(designs.sample(dims, 16, 4))


def test_arms_run_each_sample_with_the_same_seed() -> None:
    verdict = STUDIES["q7_trust"].verdict
    dims = designs.dimensions(verdict)
    design = designs.sample(dims, 3, 0)
    jobs = designs.job_overrides(design, dims, verdict, ["experiment=q7_trust"])
    assert len(jobs) == 6 == designs.runs("q7_trust", 3)
    for sample in range(3):
        a, b = jobs[2 * sample], jobs[2 * sample + 1]
        assert a[-1] == b[-1] == f"seed={sample}"
        assert "sellers.disclose_sponsorship=true" in a
        assert "sellers.disclose_sponsorship=false" in b
        assert "sellers=all_sponsor" in a and a[0] == "experiment=q7_trust"
        assert [o for o in a if o.startswith("market.")] == [
            o for o in b if o.startswith("market.")]


def test_a_pinned_setting_is_not_varied() -> None:
    verdict = STUDIES["q7_trust"].verdict
    keys = [d.key for d in designs.dimensions(verdict, ["market.p_exposure"])]
    assert "market.p_exposure" not in keys and len(keys) == len(verdict.settings) - 1


@pytest.mark.parametrize("experiment", [None, "", "diffusion", "sensitivity_q1", "q9_nothing"])
def test_a_study_without_a_verdict_is_refused(experiment: str | None) -> None:
    with pytest.raises(ConfigError, match="q1_decline, q2_strategy"):
        designs.verdict_of(experiment)


@pytest.mark.parametrize("n", [-3, 0, 1])
def test_too_few_samples_are_refused(n: int) -> None:
    with pytest.raises(ConfigError, match=r"hydra\.sweeper\.samples"):
        designs.sample(designs.dimensions(STUDIES["q1_decline"].verdict), n, 0)


def test_a_dimension_maps_the_unit_interval_onto_its_range() -> None:
    log = Dimension("x", 0.01, 1.0, log=True)
    assert log.value(0.0) == pytest.approx(0.01) and log.value(0.5) == pytest.approx(0.1)
    assert Dimension("k", 1, 10, integer=True).value(0.5) == 6
    options = Dimension("g", options=("a", "b", "c"))
    assert [options.value(u) for u in (0.0, 0.34, 0.999)] == ["a", "b", "c"]


# -- the boxes -----------------------------------------------------------------------------


def synthetic(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, list[Dimension], np.ndarray]:
    """Samples where the verdict holds for a >= 0.5 and g in {y, z}, with 3% of flips at random."""
    rng = np.random.default_rng(seed)
    dims = [Dimension("a", 0, 1), Dimension("b", 0, 1), Dimension("k", 1, 10, integer=True),
            Dimension("g", options=("x", "y", "z"))]
    samples = pd.DataFrame({"a": rng.random(n), "b": rng.random(n),
                            "k": rng.integers(1, 11, n), "g": rng.choice(["x", "y", "z"], n)})
    holds = (samples["a"] >= 0.5) & samples["g"].isin(["y", "z"])
    return samples, dims, (holds ^ (rng.random(n) < 0.03)).to_numpy()


def test_prim_finds_the_box_where_a_known_verdict_holds() -> None:
    samples, dims, cases = synthetic()
    box = find_box(samples, dims, cases)
    assert box is not None
    limits = {limit.key: limit for limit in box.limits}
    assert limits["a"].restricted and 0.4 <= limits["a"].low <= 0.6
    assert limits["a"].high is None or limits["a"].high >= 0.9  # a noise flip may trim the top
    assert limits["g"].restricted and limits["g"].options == ("y", "z")
    assert not limits["b"].restricted and not limits["k"].restricted
    assert box.coverage >= MIN_COVERAGE and box.density >= 0.9
    scores = importance(samples, dims, cases)
    assert min(scores["a"], scores["g"]) > max(scores["b"], scores["k"])


def test_no_box_when_the_verdict_holds_everywhere_or_nowhere() -> None:
    samples, dims, _ = synthetic(50)
    assert find_box(samples, dims, np.ones(50, bool)) is None
    assert find_box(samples, dims, np.zeros(50, bool)) is None
    assert importance(samples, dims, np.ones(50, bool)) == {}


# -- the command ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def explored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """A small exploration of Q7 (two arms): 6 samples, 12 runs."""
    where = tmp_path_factory.mktemp("explore")
    done = spheres("explore", "experiment=q7_trust", *SMALL, "hydra.sweeper.samples=6",
                   f"hydra.sweep.dir={where / 'sweep'}", cwd=where)
    return where / "sweep", done


def test_explore_writes_samples_verdicts_and_boxes_into_the_store(explored) -> None:
    sweep, done = explored
    assert done.returncode == 0, done.stderr
    assert "Verdict: sponsorship kept hidden leaves less trust in influencers" in done.stdout
    with duckdb.connect(str(sweep / "sweep.duckdb"), read_only=True) as con:
        runs = con.execute("SELECT job, seed, status, \"sellers.disclose_sponsorship\" AS d "
                           "FROM runs ORDER BY job").df()
        samples = con.execute("SELECT * FROM explore ORDER BY sample").df()
        trust = con.execute("SELECT job, trust_final_influencers AS t FROM runs").df()
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert {"explore", "boxes"} <= tables
    assert len(runs) == 12 and (runs["status"] == "ok").all()
    assert list(runs["seed"]) == [s for s in range(6) for _ in range(2)]
    assert list(runs["d"]) == [True, False] * 6
    assert len(samples) == 6 and list(samples["sample"]) == list(range(6))
    t = trust.set_index("job")["t"]
    for row in samples.itertuples():
        disclosed, hidden = t[2 * row.sample], t[2 * row.sample + 1]
        assert row.value == pytest.approx(disclosed - hidden)
        assert row.holds == (disclosed - hidden > 0)
    problem = json.loads((sweep / "explore" / "problem.json").read_text())
    assert problem["experiment"] == "q7_trust" and len(problem["dimensions"]) == 6
    design = pd.read_parquet(sweep / "explore" / "design.parquet")
    pd.testing.assert_series_equal(design["market.p_exposure"], samples["market.p_exposure"])
    assert (sweep / "explore.parquet").is_file() and (sweep / "boxes.parquet").is_file()


def test_collecting_again_gives_the_same_verdicts(explored, tmp_path: Path) -> None:
    sweep, _ = explored
    before = pd.read_parquet(sweep / "explore.parquet")
    done = spheres("collect", str(sweep), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(before, pd.read_parquet(sweep / "explore.parquet"))


def test_the_report_leads_with_the_verdict(explored, tmp_path: Path) -> None:
    sweep, _ = explored
    done = spheres("report", str(sweep), "--out", str(tmp_path / "r"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "r" / "report.md").read_text()
    assert text.index("Verdict: sponsorship kept hidden") < text.index("What this sweep compared")
    assert (tmp_path / "r" / "holds_where.png").stat().st_size > 5000
    summary = json.loads((tmp_path / "r" / "explore.json").read_text())
    assert summary["study"] == "q7_trust" and summary["samples"] == 6
    assert not (tmp_path / "r" / "study.json").exists()


@pytest.mark.parametrize(("args", "says"), [
    ([], "experiment=NAME"),
    (["experiment=diffusion"], "experiment=diffusion is not allowed"),
    (["experiment=q2_strategy", "hydra.sweeper.samples=1"], "hydra.sweeper.samples = 1"),
    (["experiment=q2_strategy", "market.ad_rate=0.1,0.2"], "single values only"),
    (["experiment=q2_strategy", "market.nothing=1"], "market.nothing"),
])
def test_bad_input_is_refused_before_any_run(args: list[str], says: str, tmp_path: Path) -> None:
    done = spheres("explore", *args, *SMALL, f"hydra.sweep.dir={tmp_path / 'sweep'}",
                   cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr
    # one line, beside the progress bar (which a terminal clears)
    lines = [line for line in done.stderr.splitlines()
             if line.strip() and not line.startswith("sweep:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert not (tmp_path / "sweep" / "sweep.duckdb").exists()
    assert not list((tmp_path / "sweep").glob("[0-9]*"))


def test_without_the_extra_an_exploration_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = designs.importlib.util.find_spec
    monkeypatch.setattr(designs.importlib.util, "find_spec",
                        lambda name, *a: None if name == "ema_workbench" else real(name, *a))
    with pytest.raises(ConfigError, match=r"needs the \[explore\] extra"):
        designs.require_extra()


def test_help_lists_the_studies(tmp_path: Path) -> None:
    done = spheres("explore", "--help", cwd=tmp_path)
    assert done.returncode == 0
    assert "q1_decline" in done.stdout and "hydra.sweeper.samples" in done.stdout


@pytest.mark.slow
def test_the_verdicts_do_not_depend_on_the_number_of_processes(tmp_path: Path) -> None:
    tables = []
    for n_jobs in (1, 2):
        sweep = tmp_path / f"sweep{n_jobs}"
        done = spheres("explore", "experiment=q2_strategy", *SMALL, "hydra.sweeper.samples=8",
                       f"hydra.launcher.n_jobs={n_jobs}", f"hydra.sweep.dir={sweep}",
                       cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        tables.append(pd.read_parquet(sweep / "explore.parquet"))
    pd.testing.assert_frame_equal(*tables)


def test_an_answer_that_holds_everywhere_says_what_sets_its_size() -> None:
    samples, dims, _ = synthetic(60)
    rng = np.random.default_rng(1)
    samples = samples.assign(sample=range(60), seed=range(60),
                             value=1 + samples["b"] + 0.05 * rng.random(60))
    samples = samples.assign(margin=samples["value"], holds=pd.array([True] * 60, "boolean"))
    problem = {"experiment": "q4_scores", "statement": "the score ranks agents like influence"}
    found = Exploration(problem, dims, samples, pd.DataFrame(columns=BOX_COLUMNS))
    lines = found.lines()
    assert "It holds everywhere sampled: there is no box to find." in lines
    sizes = next(line for line in lines if line.startswith("What sets the number's size"))
    assert sizes.startswith("What sets the number's size: b (Spearman +")
    assert found.ranked()[0] == "b"
    assert len(png(verdict_figure(found))) > 5000
