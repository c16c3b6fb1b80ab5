"""The named studies of ``configs/experiment/q*.yaml``: each composes, says what it runs, and runs.

Fast tests compose every study with and without ``size=tiny`` and read its header; the slow
tests run each study at ``size=tiny`` through the real command (``spheres run -m``) and check
that every run finished, that the swept settings are columns of the sweep store, and the sign
of the study's main effect where the model's mechanisms guarantee it.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf, open_dict

import spheres
from spheres.analysis.store import SEED, Store
from spheres.config import SpheresConfig
from spheres.config.compose import load_config
from spheres.model.sellers import TARGETING
from spheres.paths import DATABASE, config_dir
from spheres.studies import q6_targeting
from spheres.sweeps.progress import sweep_size
from spheres.sweeps.sensitivity import design_runs, outcome_value
from test_cli import spheres_cli
from test_sweeps import composed_with_hydra

STUDIES = sorted(p.stem for p in (config_dir() / "experiment").glob("q[0-9]_*.yaml"))
SENSITIVITY = sorted(p.stem for p in (config_dir() / "experiment").glob("sensitivity_q*.yaml"))
TINY = OmegaConf.load(config_dir() / "size" / "tiny.yaml")


def header(study: str) -> str:
    """The leading comment block of a study's file, without the ``#`` marks."""
    lines = (config_dir() / "experiment" / f"{study}.yaml").read_text().splitlines()
    end = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    return "\n".join(line.lstrip("#").strip() for line in lines[:end])


def study_config(study: str, *extra: str) -> DictConfig:
    """A study's composed config with its ``hydra`` node."""
    return composed_with_hydra(f"experiment={study}", *extra)


def swept(config: DictConfig) -> dict[str, list[str]]:
    """The study's swept settings other than the seed, each with its values."""
    params = config.hydra.sweeper.params or {}
    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()])
    return {o.key_or_group: list(o.sweep_string_iterator()) for o in parsed
            if o.key_or_group != SEED}


def seeds(config: DictConfig) -> list[str]:
    """The seed list of a study's sweep."""
    spec = config.hydra.sweeper.params[SEED]
    return list(OverridesParser.create().parse_override(f"{SEED}={spec}").sweep_string_iterator())


def validated(config: DictConfig) -> SpheresConfig:
    """The model's config of a composition (its ``hydra`` node dropped), validated."""
    config = config.copy()
    with open_dict(config):
        del config["hydra"]
    return load_config(config)


# -- fast: every study composes, validates and says what it runs -----------------------------


def test_there_is_one_study_per_question() -> None:
    assert [s.split("_")[0] for s in STUDIES] == [f"q{i}" for i in range(1, 8)]


@pytest.mark.parametrize("study", STUDIES)
def test_a_study_composes_validates_and_sweeps_seeds_and_settings(study: str) -> None:
    config = study_config(study)
    validated(config)
    assert len(seeds(config)) >= 5
    assert swept(config), "a study sweeps at least one setting besides the seed"
    assert all(len(values) >= 2 for values in swept(config).values())


@pytest.mark.parametrize("study", STUDIES)
def test_size_tiny_wins_over_the_studys_sizes_and_seeds_and_keeps_its_sweep(study: str) -> None:
    full, tiny = study_config(study), study_config(study, "size=tiny")
    assert (full.n_buyers, full.steps) != (TINY.n_buyers, TINY.steps)
    assert (tiny.n_buyers, tiny.steps) == (TINY.n_buyers, TINY.steps)
    assert seeds(tiny) == seeds(TINY) != seeds(full)
    assert swept(tiny) == swept(full)
    # The order of the defaults list decides, not the order on the command line.
    assert OmegaConf.to_container(composed_with_hydra("size=tiny", f"experiment={study}")
                                  .hydra.sweeper.params) == OmegaConf.to_container(
        tiny.hydra.sweeper.params)
    mine, theirs = validated(tiny), validated(full)
    assert (mine.sellers.mix, mine.network.kind, mine.mechanisms) == (
        theirs.sellers.mix, theirs.network.kind, theirs.mechanisms)
    assert sweep_size(tiny) == len(seeds(TINY)) * math.prod(map(len, swept(full).values()))


@pytest.mark.parametrize("study", STUDIES)
def test_a_studys_header_names_its_command_question_hypothesis_sweep_and_runs(study: str) -> None:
    text = header(study)
    number = study.split("_")[0][1:]
    assert f"spheres run -m experiment={study}" in text
    assert f"Question (Q{number} " in text
    for part in ("Hypothesis tested", "Swept:", "Look at"):
        assert part in text
    config = study_config(study)
    for key in swept(config):
        assert key in text.split("Swept:")[1], f"the header does not say that {key} is swept"
    runs = re.search(r"(\d+) runs", text)
    assert runs and int(runs.group(1)) == sweep_size(config)


@pytest.mark.parametrize("study", SENSITIVITY)
def test_a_sensitivity_study_is_a_sobol_sweep_whose_outcomes_a_run_gives(study: str) -> None:
    config = study_config(study)
    assert config.hydra.sweeper._target_.endswith(".SobolSweeper")
    params = config.hydra.sweeper.params
    assert len(params) >= 4 and all(str(v).startswith("interval(") for v in params.values())
    text = header(study)
    assert f"spheres run -m experiment={study}" in text
    for part in ("Question (Q", "Outcomes:", "Varied", "Look at"):
        assert part in text
    assert all(key in text.split("Varied")[1] for key in params)
    runs = re.search(r"(\d+) runs", text)
    assert runs and int(runs.group(1)) == sweep_size(config) == design_runs(
        config.hydra.sweeper.n, len(params), second_order=False)
    # Every outcome is a number in the summary of a (short) run of the study's world.
    small = validated(study_config(study, "n_buyers=200", "steps=5"))
    summary = spheres.simulate(small).summary
    for outcome in config.hydra.sweeper.outcomes:
        assert math.isfinite(outcome_value(summary, outcome)), outcome


def test_without_a_sensitivity_study_sweeps_use_the_spheres_sweeper_and_joblib() -> None:
    for config in (composed_with_hydra(), study_config("q1_decline")):
        assert config.hydra.sweeper._target_.endswith(".SpheresSweeper")
        assert "joblib" in config.hydra.launcher._target_.lower()
    sobol = composed_with_hydra("hydra/sweeper=sobol", "hydra/launcher=basic")
    assert sobol.hydra.sweeper._target_.endswith(".SobolSweeper")
    assert "basic" in sobol.hydra.launcher._target_.lower()


def test_the_command_line_wins_over_a_study() -> None:
    config = validated(study_config("q1_decline", "steps=7", "sellers=all_listen"))
    assert (config.steps, config.sellers.mix) == (7, {"listen": 10})


def test_the_old_plus_form_is_refused_in_one_line(tmp_path: Path) -> None:
    done = spheres_cli("run", "+experiment=diffusion", "n_buyers=100", "steps=2",
                       f"hydra.run.dir={tmp_path / 'run'}")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.strip() == ("error: experiment already has a slot in the defaults: "
                                   "select it with experiment=diffusion (without +)")
    assert not (tmp_path / "run" / "summary.json").exists()


# -- slow: each study runs at size=tiny through `spheres run -m` -----------------------------


def query(store: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """A query's result as a frame."""
    return store.execute(sql).df()


def lagging_sellers_lose_sync_when_the_frontier_moves(store: duckdb.DuckDBPyConnection,
                                                      sweep_dir: Path) -> None:
    """Q1, Q2: sellers that sense by lagging sales are further from expectations at the fastest
    frontier than at the slowest."""
    sync = query(store, """
        SELECT r."market.frontier_speed" AS speed, avg(s.sync) AS sync
        FROM sellers s JOIN runs r USING (job)
        WHERE s.sensing = 'lagging_sales' AND s.alive GROUP BY ALL""").set_index("speed").sync
    assert len(sync) >= 2
    assert sync[sync.index.max()] > sync[sync.index.min()]


def more_decay_burns_more(store: duckdb.DuckDBPyConnection, sweep_dir: Path) -> None:
    """Q3: no decay burns nothing; a faster decay burns more."""
    burned = query(store, """SELECT "currency.decay" AS decay, currency_by_reason_decay AS burned
                             FROM runs""")
    assert (burned[burned.decay == 0].burned == 0).all()
    assert (burned[burned.decay > 0].burned > 0).all()
    means = burned.groupby("decay").burned.mean()
    assert means.is_monotonic_increasing and means.is_unique


def every_targeting_rule_seeded(store: duckdb.DuckDBPyConnection, sweep_dir: Path) -> None:
    """Q6: every targeting rule ran, and free trials were given in every run; the study's years
    to half reach are those of each run's own sellers table."""
    trials = query(store, """SELECT r."sellers.targeting" AS rule, r.job, sum(s.trials) AS trials
                             FROM steps s JOIN runs r USING (job) GROUP BY ALL""")
    assert set(trials.rule) == set(TARGETING)
    assert (trials.trials > 0).all()
    with Store(sweep_dir / DATABASE) as opened:
        study = q6_targeting.per_run(opened).set_index("job")
    for _, run in query(store, "SELECT job, run_dir, steps, steps_per_year FROM runs").iterrows():
        sellers = pd.read_parquet(sweep_dir / run.run_dir / "sellers.parquet")
        for lever in ("seed", "sponsor"):
            mean = sellers[sellers.marketing_lever == lever].groupby("step")["reach"].mean()
            half = mean.index[mean >= 0.5]
            years = (half.min() if len(half) else run.steps) / run.steps_per_year
            assert study.loc[run.job, f"{lever}_half_years"] == pytest.approx(years)


def hidden_sponsorship_costs_influencers_trust(store: duckdb.DuckDBPyConnection,
                                               sweep_dir: Path) -> None:
    """Q7: only sellers' own claims (ads) move trust in sellers: where sellers listen or sponsor
    posts it stays where it started, where they advertise it moves; undisclosed sponsorship that
    is found out leaves buyers trusting influencers less than disclosed sponsorship, seed by
    seed."""
    start = SpheresConfig().market.trust_sellers
    runs = query(store, 'SELECT sellers, "sellers.disclose_sponsorship" AS disclose, seed, '
                        "trust_final_sellers, trust_final_influencers FROM runs")
    quiet = runs[runs.sellers != "all_broadcast"].trust_final_sellers
    assert len(quiet) and quiet.to_numpy() == pytest.approx(start, abs=1e-12)
    ads = runs[runs.sellers == "all_broadcast"].trust_final_sellers
    assert len(ads) and (ads != start).all()
    sponsor = runs[runs.sellers == "all_sponsor"].pivot(index="seed", columns="disclose",
                                                        values="trust_final_influencers")
    assert len(sponsor) and (sponsor[False] < sponsor[True]).all()


def scores_rank_like_true_influence(store: duckdb.DuckDBPyConnection, sweep_dir: Path) -> None:
    """Q4: on every network and seed, the observable score and true influence rank agents alike
    (positive Spearman), and the store's agents give the summary's correlation."""
    runs = query(store, "SELECT job, network, score_influence_spearman AS rho FROM runs")
    assert set(runs.network) == {"barabasi_albert", "erdos_renyi", "watts_strogatz"}
    assert (runs.rho > 0).all()
    agents = query(store, "SELECT job, score, true_influence FROM agents")
    assert len(agents) == len(runs) * TINY.n_buyers


def word_of_mouth_raises_network_value(store: duckdb.DuckDBPyConnection, sweep_dir: Path) -> None:
    """Q5: more word of mouth gives buyers more network value (spend they caused in others), on
    each network; a buyer's network value grows with its degree."""
    value = query(store, """
        SELECT r.network, r."market.p_word_of_mouth" AS wom, r.job,
               sum(a.network_value) AS total, corr(a.degree, a.network_value) AS by_degree
        FROM agents a JOIN runs r USING (job) GROUP BY ALL""")
    assert (value.by_degree > 0).all()
    for _, per_network in value.groupby("network"):
        means = per_network.groupby("wom").total.mean()
        assert len(means) == 3 and means.is_monotonic_increasing and means.is_unique


# The main effect each study's mechanisms guarantee, where they guarantee one.
EFFECTS: dict[str, Callable[[duckdb.DuckDBPyConnection, Path], None]] = {
    "q1_decline": lagging_sellers_lose_sync_when_the_frontier_moves,
    "q2_strategy": lagging_sellers_lose_sync_when_the_frontier_moves,
    "q3_currency": more_decay_burns_more,
    "q4_scores": scores_rank_like_true_influence,
    "q5_network_value": word_of_mouth_raises_network_value,
    "q6_targeting": every_targeting_rule_seeded,
    "q7_trust": hidden_sponsorship_costs_influencers_trust,
}


@pytest.mark.slow
@pytest.mark.parametrize("study", STUDIES)
def test_a_tiny_study_runs_end_to_end(study: str, tmp_path: Path) -> None:
    sweep_dir = tmp_path / study
    done = spheres_cli("run", "-m", f"experiment={study}", "size=tiny",
                       f"hydra.sweep.dir={sweep_dir}")
    assert done.returncode == 0, done.stderr
    config = study_config(study, "size=tiny")
    with duckdb.connect(str(sweep_dir / DATABASE), read_only=True) as store:
        runs = query(store, "SELECT * FROM runs")
        assert len(runs) == sweep_size(config)
        assert (runs.status == "ok").all()
        assert (runs.n_buyers == TINY.n_buyers).all() and (runs.steps == TINY.steps).all()
        keys = set(query(store, "SELECT key FROM swept").key)
        assert keys == set(swept(config))
        for key, values in swept(config).items():
            assert runs[key].nunique() == len(values)
        if study in EFFECTS:
            EFFECTS[study](store, sweep_dir)
    done = spheres_cli("report", str(sweep_dir))
    assert done.returncode == 0, done.stderr
    summary = json.loads((sweep_dir / "study.json").read_text())
    assert summary["study"] == study and summary["runs"] == sweep_size(config)
    assert summary["numbers"] and summary["readings"]
    assert all((sweep_dir / name).is_file() for name in summary["figures"])
    assert f"## Study Q{study[1]}: " in (sweep_dir / "report.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("study", SENSITIVITY)
def test_a_small_sensitivity_study_runs_end_to_end(study: str, tmp_path: Path) -> None:
    """A Sobol study at 200 buyers, 25 steps and n = 4 gives indices of every outcome for every
    parameter, and its report draws them."""
    sweep_dir = tmp_path / study
    done = spheres_cli("run", "-m", f"experiment={study}", "n_buyers=200", "steps=25",
                       "hydra.sweeper.n=4", f"hydra.sweep.dir={sweep_dir}")
    assert done.returncode == 0, done.stderr
    config = study_config(study)
    indices = pd.read_parquet(sweep_dir / "sensitivity.parquet")
    assert set(indices.outcome) == set(config.hydra.sweeper.outcomes)
    assert set(indices.parameter) == set(config.hydra.sweeper.params)
    with duckdb.connect(str(sweep_dir / DATABASE), read_only=True) as store:
        runs = query(store, "SELECT experiment, status FROM runs")
    assert len(runs) == design_runs(4, len(config.hydra.sweeper.params), second_order=False)
    assert (runs.status == "ok").all() and (runs.experiment == study).all()
    report = spheres_cli("report", str(sweep_dir))
    assert report.returncode == 0, report.stderr
    assert (sweep_dir / "sensitivity.png").is_file()
    assert "Global sensitivity (Sobol indices)" in (sweep_dir / "report.md").read_text()


# -- experiments/run_studies.py: every study in turn, timed, with its report ------------------

RUN_STUDIES = Path(__file__).resolve().parents[1] / "experiments" / "run_studies.py"


def run_studies(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``experiments/run_studies.py`` with this interpreter."""
    return subprocess.run([sys.executable, str(RUN_STUDIES), *args], capture_output=True,
                          text=True, timeout=900, check=False)


def test_run_studies_refuses_an_unknown_study(tmp_path: Path) -> None:
    done = run_studies("--only", "q9_nothing", "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "--only: q9_nothing is not a study; one of q1_decline" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_run_studies_runs_reports_times_and_keeps_the_figures(tmp_path: Path) -> None:
    out, figures = tmp_path / "studies", tmp_path / "figures"
    done = run_studies("--only", "q4_scores", "--size", "tiny", "--out", str(out),
                       "--figures", str(figures))
    assert done.returncode == 0, done.stderr
    times = json.loads((out / "times.json").read_text())
    assert [t["study"] for t in times] == ["q4_scores"]
    assert times[0]["runs_ok"] == times[0]["runs"] == 6 and times[0]["sweep_s"] > 0
    named = json.loads((out / "q4_scores" / "study.json").read_text())["figures"]
    assert named and sorted(p.name for p in (figures / "q4_scores").iterdir()) == sorted(named)
    assert "q4_scores" in done.stdout.splitlines()[-1]


@pytest.mark.slow
def test_run_studies_runs_an_exploration_and_keeps_earlier_times(tmp_path: Path) -> None:
    out, figures = tmp_path / "studies", tmp_path / "figures"
    earlier = [{"study": "q4_scores", "runs_ok": 6, "runs": 6, "sweep_s": 1.0}]
    out.mkdir()
    (out / "times.json").write_text(json.dumps(earlier))
    done = run_studies("--only", "explore_q4_scores", "--size", "tiny", "--out", str(out),
                       "--figures", str(figures))
    assert done.returncode == 0, done.stderr
    times = json.loads((out / "times.json").read_text())
    assert [t["study"] for t in times] == ["q4_scores", "explore_q4_scores"]
    assert times[0] == earlier[0] and times[1]["runs_ok"] == times[1]["runs"] == 8
    assert json.loads((out / "explore_q4_scores" / "explore.json").read_text())["samples"] == 8
    assert [p.name for p in (figures / "explore_q4_scores").iterdir()] == ["holds_where.png"]
