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
from spheres.config import ConfigError, SpheresConfig
from spheres.config.compose import load_config, register
from spheres.model.currency import REASONS
from spheres.model.strategies import STRATEGIES
from spheres.paths import config_dir

SMALL = ["n_buyers=300", "steps=10"]
TABLE_COLUMNS = {
    "metrics": {"step", "trust_peers", "trust_influencers", "trust_sellers", "expectation_lag",
                "currency_perks", "currency_follower_share", "exposures", "credibility_mean",
                "promotions", "promoted_degree_percentile", "trials", "marketing_spend"},
    "sellers": {"step", "seller_id", "strategy", "marketing_lever", "sensing", "alive", "cash",
                "revenue", "costs", "sales", "share", "sync", "sync_customers", "reach", "price",
                "marketing", "believed_fit"},
    "flows": {"step", "source_type", "destination_type", "kind", "reason", "amount"},
    "agents": {"agent_id", "agent_type", "degree_percentile", "promoted_step", "posts",
               "replies", "reads", "mentions", "score", "made_aware", "true_influence",
               "lifetime_value", "network_value", "currency", "credibility", "found_out"},
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
    register()
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
    assert (config.seed, config.steps, config.n_buyers, config.engine) == (0, 624, 3000, "vector")
    assert config.network.kind == "barabasi_albert"
    two_of_five = {"inert": 2, "broadcast": 2, "listen": 2, "sponsor": 2, "cocreate": 2}
    assert config.sellers.mix == SpheresConfig().sellers.mix == two_of_five


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
    assert (market.frontier_speed, market.drift_rate) == (1.56, 11.6)


def test_diffusion_experiment_leaves_advertising_and_word_of_mouth() -> None:
    config = load_config(composed("experiment=diffusion"))
    switches = vars(config.mechanisms)
    assert {name for name, on in switches.items() if on} == {"advertising"}
    assert config.market.p_word_of_mouth > 0
    text = (config_dir() / "experiment" / "diffusion.yaml").read_text()
    assert "spheres run experiment=diffusion" in text.splitlines()[1]


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
    sellers = SpheresConfig().sellers
    assert set(summary["sellers_alive_by_strategy"]) == {*sellers.mix, sellers.entry_strategy}
    assert summary["money_identity_holds"] is True
    assert set(summary["currency_by_reason"]) == set(REASONS)
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
    assert first["seller_id"].nunique() >= 10, "the ten incumbents are there at the first step"
    assert set(sellers["strategy"]) == {"listen"}, "incumbents and entrants all listen"


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


# The catalogue of bad input on the command line: each is refused before any work, with exit 2,
# one line on stderr that names the setting, no traceback and no result files.
CATALOGUE = [
    (["n_buyers=-5"], "n_buyers"),
    (["n_buyers=abc"], "n_buyers"),
    (["steps=5.5"], "steps"),
    (["market.need_rate=-1"], "market.need_rate"),
    (["market.frontier_speed=inf"], "market.frontier_speed"),
    (["market.frontier_noise=1e308"], "market.frontier_noise"),
    (["market.choice_beta=inf"], "market.choice_beta"),
    (["sellers.sense_noise=nan"], "sellers.sense_noise"),
    (["+market.need_rat=0.9"], "market.need_rate"),
    (["market.nosuch=1"], "market.nosuch"),
    (["+sellers.mix.nonsense=1"], "sellers.mix.nonsense"),
    (["sellers.mix.nonsense=1"], "sellers.mix.nonsense"),
    (["engine=warp"], "engine"),
    (["sellers.price=10000000000000000000"], "sellers.price"),
    (["sellers.initial_cash_per_buyer=100000000000000000"], "sellers.initial_cash_per_buyer"),
    (["currency.cents_per_point=9223372036854775807"], "currency.cents_per_point"),
    (["sellers.sense_delay=1000000000"], "sellers.sense_delay"),
    (["n_buyers=2000000000"], "n_buyers"),
    (["steps=1000000000"], "steps"),
    (["network.rewire=0.3"], "network.rewire"),
    (["network.path=x.txt"], "network.path"),
    (["network=edgelist", "network.path=/no/such/file"], "network.path"),
    (["network=edgelist"], "network.path"),
    (["sellers.price=-100"], "sellers.price"),
]


@pytest.mark.parametrize(("overrides", "setting"), CATALOGUE,
                         ids=[" ".join(o) for o, _ in CATALOGUE])
def test_bad_input_is_refused_in_one_line(tmp_path: Path, overrides: list[str],
                                          setting: str) -> None:
    run_dir = tmp_path / "run"
    done = spheres_cli("run", *SMALL, *overrides, f"hydra.run.dir={run_dir}")
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and setting in lines[0]
    assert "Traceback" not in done.stderr + done.stdout
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


# -- a run's lifecycle ---------------------------------------------------------------------------


def test_a_failed_rerun_leaves_no_old_results(tmp_path: Path) -> None:
    """A re-run into a directory removes the earlier results before it can fail."""
    run_dir = tmp_path / "r"
    assert spheres_cli("run", *SMALL, "seed=1", f"hydra.run.dir={run_dir}").returncode == 0
    assert (run_dir / "summary.json").is_file()
    done = spheres_cli("run", *SMALL, "seed=2", "market.need_rate=-1", f"hydra.run.dir={run_dir}")
    assert done.returncode == 2
    assert_no_results(run_dir)
    assert not (run_dir / "dashboard.png").exists()


def test_the_log_records_start_and_finish_and_progress_shows_without_a_terminal(
        tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    done = spheres_cli("run", "n_buyers=50000", "steps=60", "output.progress_every=0.1",
                       "output.dashboard=false", f"hydra.run.dir={run_dir}")
    assert done.returncode == 0, done.stderr
    assert "step " in done.stderr and " of 60 (" in done.stderr  # log lines, not a bar
    log = (run_dir / "spheres.log").read_text()
    assert "start: config " in log and "seed 0, engine vector" in log
    assert "finish: 60 steps, wall time" in log


@pytest.mark.parametrize("where", ["/proc/spheres-run", "file/sub", "file"])
def test_an_unwritable_run_directory_is_refused_before_any_work(tmp_path: Path,
                                                                where: str) -> None:
    (tmp_path / "file").write_text("not a directory")
    target = where if where.startswith("/") else str(tmp_path / where)
    done = spheres_cli("run", *SMALL, f"hydra.run.dir={target}")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: cannot write the run directory")
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_a_run_larger_than_memory_is_refused_naming_the_sizes(tmp_path: Path) -> None:
    env_limit = {"SPHERES_MEMORY_LIMIT": str(200 * 2**20)}
    env = dict(os.environ, **env_limit)
    src = str(Path(spheres.__file__).resolve().parents[1])
    env["PYTHONPATH"] = src
    done = subprocess.run([sys.executable, "-m", "spheres.cli", "run", *SMALL,
                           f"hydra.run.dir={tmp_path / 'r'}"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 2
    assert "n_buyers=300" in done.stderr and "GiB of memory" in done.stderr
    assert_no_results(tmp_path / "r")


def test_a_full_disk_is_refused_before_any_work(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from spheres.errors import RunDirError
    from spheres.run import files

    usage = files.shutil.disk_usage(tmp_path)
    monkeypatch.setattr(files.shutil, "disk_usage",
                        lambda path: usage._replace(free=1000))
    with pytest.raises(RunDirError, match="MB free"):
        files.check_run_dir(tmp_path / "r", 10**6)


@pytest.mark.slow
def test_ctrl_c_stops_with_one_line_exit_130_and_no_results(tmp_path: Path) -> None:
    import signal
    import time

    run_dir = tmp_path / "r"
    env = dict(os.environ, PYTHONPATH=str(Path(spheres.__file__).resolve().parents[1]))
    proc = subprocess.Popen([sys.executable, "-m", "spheres.cli", "run", "n_buyers=100000",
                             "steps=100000", f"hydra.run.dir={run_dir}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    log = run_dir / "spheres.log"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (log.exists() and "start:" in log.read_text()):
        time.sleep(0.2)
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().startswith("interrupted at step ")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err + out
    assert_no_results(run_dir)
    assert "interrupted at step" in log.read_text()


def test_run_help_lists_every_setting() -> None:
    from spheres.config import settings

    done = spheres_cli("run", "--help")
    assert done.returncode == 0
    for s in settings():
        assert f"  {s.name}=" in done.stdout, s.name


def test_the_settings_tables_of_the_docs_match_the_declarations() -> None:
    """README and docs/ODD.md hold exactly the table generated from the declarations."""
    from spheres.config.help import settings_markdown

    root = Path(__file__).resolve().parents[1]
    table = settings_markdown()
    for doc in ("README.md", "docs/ODD.md"):
        text = (root / doc).read_text()
        start = text.index("<!-- settings:start")
        body = text[text.index("-->", start) + 3:text.index("<!-- settings:end -->")]
        assert body.strip() == table.strip(), f"{doc}: run `spheres settings` and paste it"


# -- validation once per run, at the boundary ------------------------------------------------

# Runs the command in this interpreter with the check of every setting counted; the count is
# printed when the process ends.
COUNTING = """
import atexit, importlib, sys
checks = importlib.import_module("spheres.config.validate")
calls = []
real = checks.check_settings
def counting(config):
    calls.append(config.seed)
    return real(config)
checks.check_settings = counting
atexit.register(lambda: print(f"settings checked for seeds {calls}", file=sys.stderr))
from spheres.cli import main
main(sys.argv[1:])
"""


def counted_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(spheres.__file__).resolve().parents[1])
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run([sys.executable, "-c", COUNTING, *args], capture_output=True,
                          text=True, env=env, timeout=300)


def test_a_run_of_the_command_checks_its_settings_once(tmp_path: Path) -> None:
    done = counted_cli("run", *SMALL, "seed=4", "output.dashboard=false",
                       f"hydra.run.dir={tmp_path / 'r'}")
    assert done.returncode == 0, done.stderr
    assert "settings checked for seeds [4]" in done.stderr


def test_each_job_of_a_sweep_checks_its_settings_once(tmp_path: Path) -> None:
    done = counted_cli("run", "-m", "n_buyers=100", "steps=3", "seed=1,2,3",
                       "hydra/launcher=basic", f"hydra.sweep.dir={tmp_path}")
    assert done.returncode == 0, done.stderr
    assert "settings checked for seeds [1, 2, 3]" in done.stderr


def test_the_api_checks_settings_once_and_again_after_a_change(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    checks = importlib.import_module("spheres.config.validate")
    calls: list[int] = []
    real = checks.check_settings

    def counting(config: SpheresConfig) -> None:
        calls.append(config.steps)
        real(config)

    monkeypatch.setattr(checks, "check_settings", counting)
    spheres.simulate(spheres.make_config(n_buyers=200, steps=3))
    assert calls == [3]
    spheres.simulate({"n_buyers": 200, "steps": 2})
    assert calls == [3, 2]
    config = spheres.make_config(n_buyers=200, steps=3)
    config.steps = 4  # a validated config changed since is checked again
    spheres.simulate(config)
    assert calls == [3, 2, 3, 4]
    spheres.MarketModel(config)  # the model trusts a validated config
    assert calls == [3, 2, 3, 4]
