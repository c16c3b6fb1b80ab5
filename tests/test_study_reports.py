"""Each named study's report: the registry, the readings, and what ``spheres report`` writes.

The fast tests build one small Q1 store in-process (the study's composed config with two frontier
speeds and three seeds, each run simulated and written as a sweep job would, then collected) and
check that the report opens with the study's section, that ``study.json`` holds the numbers a
direct DuckDB query of the store gives, and that a sweep without a study gets the generic report
unchanged. The readings are checked on made-up estimates.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from matplotlib.colors import to_hex

from spheres import simulate
from spheres.analysis.estimate import Estimate
from spheres.analysis.figures import strategy_color
from spheres.analysis.store import Store
from spheres.paths import DATABASE
from spheres.report.cli import write_report
from spheres.report.study import STUDY_JSON, section
from spheres.report.sweep import load
from spheres.report.whatif import build
from spheres.run.files import write_results
from spheres.studies import q1_decline
from spheres.studies.base import header
from spheres.studies.readings import read_difference, read_level
from spheres.studies.registry import STUDIES, study_of
from spheres.sweeps.collect import collect
from test_studies import STUDIES as STUDY_FILES
from test_studies import composed_with_hydra, validated

SPEEDS, SEEDS = (0, 0.03), (0, 1, 2)


@pytest.fixture(scope="module")
def q1_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A collected Q1 sweep: two frontier speeds x three seeds, 100 buyers x 30 steps."""
    sweep = tmp_path_factory.mktemp("q1_small")
    combos = [(speed, seed) for speed in SPEEDS for seed in SEEDS]
    for job, (speed, seed) in enumerate(combos):
        overrides = ["experiment=q1_decline", "size=tiny", "n_buyers=100", "steps=30",
                     "market.contacts=3", f"market.frontier_speed={speed}", f"seed={seed}"]
        run_dir = sweep / str(job)
        write_results(simulate(validated(composed_with_hydra(*overrides))), run_dir)
        (run_dir / ".hydra").mkdir()
        (run_dir / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    collect(sweep)
    return sweep


@pytest.fixture(scope="module")
def q1_report(q1_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the Q1 store, written elsewhere (``--out``)."""
    out = tmp_path_factory.mktemp("q1_report")
    write_report([q1_store], out=out)
    return out


def query(store: Path, sql: str) -> list[tuple]:
    """The rows of a query of a sweep store."""
    with duckdb.connect(str(store / DATABASE), read_only=True) as con:
        return con.execute(sql).fetchall()


# -- the registry ---------------------------------------------------------------------------


def test_every_study_file_has_its_analysis_and_a_readable_header() -> None:
    assert sorted(STUDIES) == STUDY_FILES
    for name, study in STUDIES.items():
        assert study.name == name
        assert study.title.startswith(f"Study Q{name[1]}: ")
        about = header(name)
        assert about["question"] and about["hypothesis"] and about["swept"]
        assert "Hypothesis" not in about["question"] and "Look at" not in about["swept"]


# -- readings from made-up estimates --------------------------------------------------------


def test_a_reading_names_the_direction_only_when_the_interval_excludes_zero() -> None:
    def read(value: float, low: float, high: float, n: int = 20) -> str:
        return read_difference("At speed 0.03", "mean steps in the market", "listening sellers",
                               "lagging sellers", Estimate(value, low, high, n), 1, "steps")

    higher = read(12.0, 4.5, 19.25)
    assert higher == ("At speed 0.03: mean steps in the market is 12.0 steps higher for "
                      "listening sellers than for lagging sellers (95% CI 4.5 to 19.2).")
    lower = read(-12.0, -19.25, -4.5)
    assert "12.0 steps lower for listening sellers" in lower and "no clear" not in lower
    for low, high in ((-3.0, 9.0), (0.0, 9.0), (-9.0, 0.0)):
        unclear = read(3.0, low, high)
        assert unclear.startswith("At speed 0.03: no clear difference in mean steps in the "
                                  "market between listening sellers and lagging sellers")
        assert "higher" not in unclear and "lower" not in unclear
        assert "the interval includes zero" in unclear
    single = read(3.0, math.nan, math.nan, 1)
    assert "too few seeds" in single and "higher" not in single
    assert read(math.nan, math.nan, math.nan, 0) == (
        "At speed 0.03: no run gives mean steps in the market of both listening sellers and "
        "lagging sellers.")


def test_a_level_reading_gives_the_mean_and_its_interval() -> None:
    text = read_level("At decay 0", "Gini at the end", Estimate(0.4125, 0.3, 0.5, 20), 3)
    assert text == "At decay 0: Gini at the end is 0.412 (95% CI 0.300 to 0.500)."
    assert read_level("Over all runs", "minted", Estimate(-1234.0, -2000.0, -5.0, 9), 0) == \
        "Over all runs: minted is −1,234 (95% CI −2,000 to −5)."


# -- the report of a study store ------------------------------------------------------------


def test_a_study_store_is_recognised_and_a_mixed_or_plain_one_is_not(q1_store: Path,
                                                                     tmp_path: Path) -> None:
    assert study_of([q1_store]) is STUDIES["q1_decline"]
    assert study_of([q1_store, q1_store]) is None
    plain = tmp_path / "plain"
    shutil.copytree(q1_store, plain)
    with duckdb.connect(str(plain / DATABASE)) as con:
        con.execute("UPDATE runs SET experiment = NULL")
    assert study_of([plain]) is None
    with duckdb.connect(str(plain / DATABASE)) as con:
        con.execute("UPDATE runs SET experiment = 'q7_trust' WHERE job = 0")
        con.execute("UPDATE runs SET experiment = 'q1_decline' WHERE job > 0")
    assert study_of([plain]) is None


def test_the_report_opens_with_the_study_section_and_its_figures(q1_report: Path) -> None:
    summary = json.loads((q1_report / STUDY_JSON).read_text())
    markdown = (q1_report / "report.md").read_text()
    html = (q1_report / "report.html").read_text()
    assert markdown.startswith("# Study Q1: decline — What-if report")
    study_at = markdown.index("## Study Q1: decline")
    assert study_at < markdown.index("### Reading") < markdown.index("## What this sweep")
    assert markdown.index("Question: when buyer expectations move faster") > study_at
    assert "<h2>Study Q1: decline</h2>" in html
    assert summary["figures"] == ["q1_survival.png", "q1_sync.png", "q1_gaps.png"]
    for name in summary["figures"]:
        assert (q1_report / name).stat().st_size > 10_000
        assert f"]({name})" in markdown
    assert (q1_report / "survival.png").is_file()  # the generic report follows
    for reading in summary["readings"]:
        assert reading in markdown


def test_study_json_numbers_are_what_the_store_says(q1_store: Path, q1_report: Path) -> None:
    summary = json.loads((q1_report / STUDY_JSON).read_text())
    assert (summary["study"], summary["runs"], summary["seeds"], summary["buyers"],
            summary["steps"]) == ("q1_decline", 6, list(SEEDS), [100], [30])
    numbers = {(n["label"], n["scenario"]): n for n in summary["numbers"]}
    # Per run: mean steps alive of each sensing; per scenario: the mean over runs.
    direct = query(q1_store, """
        WITH seller AS (SELECT job, seller_id, any_value(sensing) AS sensing,
                               sum(CAST(alive AS INTEGER)) AS steps_alive
                        FROM sellers GROUP BY ALL),
             run AS (SELECT job, avg(steps_alive) FILTER (WHERE sensing = 'lagging_sales') AS lag,
                            avg(steps_alive) FILTER (WHERE sensing = 'conversations') AS listen
                     FROM seller GROUP BY job)
        SELECT r."market.frontier_speed", avg(lag), avg(listen), avg(listen - lag), count(*)
        FROM run JOIN runs r USING (job) GROUP BY ALL""")
    assert len(direct) == len(SPEEDS)
    for speed, lag, listen, gap, n in direct:
        scenario = f"market.frontier_speed={speed:g}"
        for label, value in (("mean steps in the market, lagging sellers", lag),
                             ("mean steps in the market, listening sellers", listen),
                             ("survival gap: listening − lagging (steps)", gap)):
            number = numbers[label, scenario]
            assert number["mean"] == pytest.approx(value, abs=1e-9)
            assert number["n"] == n == len(SEEDS)
            assert number["low"] <= number["mean"] <= number["high"]
    sync = dict(query(q1_store, """
        SELECT r."market.frontier_speed", avg(gap) FROM (
            SELECT job, avg(sync) FILTER (WHERE sensing = 'lagging_sales' AND alive)
                        - avg(sync) FILTER (WHERE sensing = 'conversations' AND alive) AS gap
            FROM sellers GROUP BY job) JOIN runs r USING (job) GROUP BY ALL"""))
    label = "sync gap: lagging − listening (distance to expectations)"
    for speed, value in sync.items():
        assert numbers[label, f"market.frontier_speed={speed:g}"]["mean"] == pytest.approx(
            value, abs=1e-9)


def test_the_readings_follow_the_numbers(q1_report: Path) -> None:
    summary = json.loads((q1_report / STUDY_JSON).read_text())
    gaps = [n for n in summary["numbers"] if n["label"].startswith("survival gap")]
    for gap in gaps:
        reading = next(r for r in summary["readings"] if r.startswith(f"At {gap['scenario']}:"))
        if gap["low"] <= 0 <= gap["high"]:
            assert "no clear difference" in reading
        else:
            word = "higher" if gap["mean"] > 0 else "lower"
            assert f"steps {word} for listening sellers than for lagging sellers" in reading


def test_a_sweep_without_a_study_gets_the_generic_report_unchanged(q1_store: Path,
                                                                    tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(q1_store, plain)
    (plain / STUDY_JSON).unlink(missing_ok=True)
    with duckdb.connect(str(plain / DATABASE)) as con:
        con.execute("UPDATE runs SET experiment = NULL")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / STUDY_JSON).write_text("{}")  # left by an earlier report
    write_report([plain], out=tmp_path / "out")
    doc, _ = build(load([plain]))
    assert (tmp_path / "out" / "report.md").read_text() == doc.markdown()
    assert not (tmp_path / "out" / STUDY_JSON).exists()
    assert not any(p.name.startswith("q1_") for p in (tmp_path / "out").iterdir())


def test_the_section_reads_the_store_only_and_leaves_it_unchanged(q1_store: Path) -> None:
    before = (q1_store / DATABASE).read_bytes()
    doc, summary = section(STUDIES["q1_decline"], q1_store)
    assert (q1_store / DATABASE).read_bytes() == before
    assert next(b[1][1] for b in doc.blocks if b[0] == "heading") == "Study Q1: decline"
    assert len(summary["numbers"]) == 5 * len(SPEEDS)


def test_study_figures_colour_sellers_as_the_report_and_the_page_do(q1_store: Path) -> None:
    with Store(q1_store / DATABASE) as store:
        table = q1_decline.sellers(store)
        fig = q1_decline.survival_panels(store, table[table["sensing"].isin(q1_decline.NAMES)])
    drawn = {line.get_label().rsplit(" (", 1)[0]: to_hex(line.get_color())
             for ax in fig.axes for line in ax.lines}
    # Lagging and listening sellers in the colours of the strategies that sense that way.
    assert drawn == {"lagging sellers": strategy_color("lagging"),
                     "listening sellers": strategy_color("listen")}
