"""The ``spheres`` command: config composition, end-to-end runs, sweeps and refused settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

import spheres
from spheres.cli import config_dir, load_config
from spheres.config import ConfigError
from spheres.model.strategies import STRATEGIES

SMALL = ["n_buyers=300", "steps=10"]
TABLE_COLUMNS = {
    "metrics": {"step", "trust_peers", "trust_influencers", "trust_sellers"},
    "sellers": {"step", "seller_id", "strategy", "alive", "cash", "revenue", "costs", "sales",
                "share", "sync", "sync_customers", "reach", "price"},
    "flows": {"step", "source_type", "destination_type", "kind", "amount"},
    "agents": {"agent_id", "agent_type", "score", "true_influence", "lifetime_value",
               "network_value", "currency"},
}
RESULT_FILES = ["metrics.parquet", "sellers.parquet", "flows.parquet", "agents.parquet",
                "dashboard.png", "summary.json"]


def spheres_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m spheres.cli`` with ``args``, importing this checkout's package."""
    env = dict(os.environ)
    src = str(Path(spheres.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run([sys.executable, "-m", "spheres.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def composed(*overrides: str) -> DictConfig:
    """Compose the bundled config with ``overrides``, as ``spheres run`` does."""
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def assert_no_results(run_dir: Path) -> None:
    if run_dir.exists():
        names = {p.name for p in run_dir.iterdir()}
        assert "summary.json" not in names
        assert not [n for n in names if n.endswith(".parquet")]


# -- composition -----------------------------------------------------------------------------


def test_default_composition() -> None:
    config = load_config(composed())
    assert (config.seed, config.steps, config.n_buyers, config.engine) == (0, 200, 3000, "vector")
    assert config.network.kind == "barabasi_albert"
    assert config.sellers.mix == {name: 2 for name in STRATEGIES}


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_single_strategy_mix_replaces_the_default(strategy: str) -> None:
    config = load_config(composed(f"sellers=all_{strategy}"))
    assert config.sellers.mix == {strategy: 10}


def test_mix_can_be_edited_on_the_command_line() -> None:
    config = load_config(composed("sellers=listen_vs_broadcast", "sellers.mix.listen=4",
                                  "+sellers.mix.cocreate=1"))
    assert config.sellers.mix == {"listen": 4, "broadcast": 5, "cocreate": 1}


def test_engine_group_sets_the_engine() -> None:
    assert load_config(composed("engine=agent")).engine == "agent"
    assert load_config(composed("engine=vector")).engine == "vector"


@pytest.mark.parametrize("kind", ["barabasi_albert", "erdos_renyi", "watts_strogatz", "complete",
                                  "sbm"])
def test_network_group_sets_the_kind(kind: str) -> None:
    assert load_config(composed(f"network={kind}")).network.kind == kind


def test_edgelist_needs_a_path() -> None:
    with pytest.raises(ConfigError, match=r"network\.path"):
        load_config(composed("network=edgelist"))
    config = load_config(composed("network=edgelist", "network.path=edges.txt"))
    assert (config.network.kind, config.network.path) == ("edgelist", "edges.txt")


def test_fast_drift_market() -> None:
    market = load_config(composed("market=fast_drift")).market
    assert (market.frontier_speed, market.drift_rate) == (0.03, 0.2)


def test_diffusion_experiment_leaves_advertising_and_word_of_mouth() -> None:
    config = load_config(composed("+experiment=diffusion"))
    switches = vars(config.mechanisms)
    assert {name for name, on in switches.items() if on} == {"advertising"}
    assert config.market.p_word_of_mouth > 0
    text = (config_dir() / "experiment" / "diffusion.yaml").read_text()
    assert "spheres run +experiment=diffusion" in text.splitlines()[1]


# -- the command -----------------------------------------------------------------------------


def test_usage_lists_commands() -> None:
    done = spheres_cli("--help")
    assert done.returncode == 0
    assert "run" in done.stdout and "usage" in done.stdout
    bare = spheres_cli()
    assert bare.returncode == 2 and "run" in bare.stderr
    unknown = spheres_cli("fly")
    assert unknown.returncode == 2 and "unknown command 'fly'" in unknown.stderr


def test_run_help_lists_groups() -> None:
    done = spheres_cli("run", "--help")
    assert done.returncode == 0
    for group in ("engine", "network", "market", "sellers", "experiment"):
        assert f"{group}:" in done.stdout


def test_run_end_to_end(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = spheres_cli("run", *SMALL, f"hydra.run.dir={run_dir}")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for name in RESULT_FILES:
        assert (run_dir / name).is_file(), name
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]
    for table, columns in TABLE_COLUMNS.items():
        frame = pd.read_parquet(run_dir / f"{table}.parquet")
        assert columns <= set(frame.columns), (table, columns - set(frame.columns))
        assert len(frame) > 0
    assert pd.read_parquet(run_dir / "metrics.parquet")["step"].tolist() == list(range(1, 11))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["ledger_identity_holds"] is True
    assert set(summary["sellers_alive_by_strategy"]) == set(STRATEGIES)
    assert "sellers alive/started:" in done.stdout
    assert "Spearman rank correlation" in done.stdout
    assert str(run_dir) in done.stdout


def test_run_options_ledger_and_no_dashboard(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = spheres_cli("run", *SMALL, "sellers=all_listen", "output.dashboard=false",
                       "output.ledger_entries=true", "output.progress=false",
                       f"hydra.run.dir={run_dir}")
    assert done.returncode == 0, done.stderr
    assert (run_dir / "ledger.parquet").is_file()
    assert not (run_dir / "dashboard.png").exists()
    sellers = pd.read_parquet(run_dir / "sellers.parquet")
    first = sellers[sellers["step"] == 1]
    assert first["strategy"].tolist() == ["listen"] * 10


def test_run_with_an_edge_list_relative_to_the_working_directory(tmp_path: Path) -> None:
    n = 300
    lines = [f"{i},{(i + k) % n}" for i in range(n) for k in (1, 2, 3)]
    (tmp_path / "edges.txt").write_text("# a ring lattice\n" + "\n".join(lines) + "\n")
    done = spheres_cli("run", *SMALL, "network=edgelist", "network.path=edges.txt",
                       "output.dashboard=false", "hydra.run.dir=run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["network_facts"]["n_edges"] == 3 * n


def test_same_seed_same_metrics(tmp_path: Path) -> None:
    frames = []
    for name in ("a", "b"):
        done = spheres_cli("run", *SMALL, "seed=3", "output.dashboard=false",
                           f"hydra.run.dir={tmp_path / name}")
        assert done.returncode == 0, done.stderr
        frames.append(pd.read_parquet(tmp_path / name / "metrics.parquet"))
    pd.testing.assert_frame_equal(frames[0], frames[1])


@pytest.mark.parametrize(
    ("overrides", "setting", "code"),
    [
        (["n_buyers=-5"], "n_buyers", 2),
        (["market.p_need=2"], "market.p_need", 2),
        (["+sellers.mix.nonsense=1"], "sellers.mix.nonsense", 2),
        (["sellers.mix.nonsense=1"], "sellers.mix.nonsense", 1),  # not in the mix: Hydra refuses
        (["network=edgelist", "network.path=/no/such/file"], "network.path", 2),
        (["network=edgelist"], "network.path", 2),
        (["engine=warp"], "engine", 1),  # an unknown option of the engine group: Hydra refuses
        (["n_buyers=abc"], "n_buyers", 1),  # a wrong type: the structured schema refuses
        (["market.nosuch=1"], "market.nosuch", 1),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, overrides: list[str], setting: str,
                                  code: int) -> None:
    run_dir = tmp_path / "run"
    done = spheres_cli("run", *SMALL, *overrides, f"hydra.run.dir={run_dir}")
    assert done.returncode == code, (done.stdout, done.stderr)
    assert setting in done.stderr
    assert "Traceback" not in done.stderr
    if code == 2:
        assert done.stderr.startswith("error: ")
    assert_no_results(run_dir)


def test_multirun_makes_one_complete_run_per_job(tmp_path: Path) -> None:
    done = spheres_cli("run", "-m", *SMALL, "seed=1,2", "output.dashboard=false",
                       f"hydra.sweep.dir={tmp_path}")
    assert done.returncode == 0, done.stderr
    for job in ("0", "1"):
        assert (tmp_path / job / "summary.json").is_file()
        assert (tmp_path / job / "metrics.parquet").is_file()
    seeds = [json.loads((tmp_path / j / "summary.json").read_text())["seed"] for j in "01"]
    assert seeds == [1, 2]


def test_multirun_goes_on_after_a_refused_job(tmp_path: Path) -> None:
    done = spheres_cli("run", "-m", *SMALL, "n_buyers=-5,300", "output.dashboard=false",
                       f"hydra.sweep.dir={tmp_path}")
    assert done.returncode == 1
    assert "error: n_buyers" in done.stderr
    assert "Traceback" not in done.stderr
    assert_no_results(tmp_path / "0")
    assert (tmp_path / "1" / "summary.json").is_file()


def test_multirun_with_joblib(tmp_path: Path) -> None:
    done = spheres_cli("run", "-m", *SMALL, "seed=1,2", "hydra/launcher=joblib",
                       "hydra.launcher.n_jobs=2", "output.dashboard=false",
                       f"hydra.sweep.dir={tmp_path}")
    assert done.returncode == 0, done.stderr
    for job in ("0", "1"):
        assert (tmp_path / job / "summary.json").is_file()
