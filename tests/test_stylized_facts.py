"""experiments/stylized_facts.py: its Bass fit, its verdicts and its command line."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "stylized_facts.py"
spec = importlib.util.spec_from_file_location("stylized_facts", SCRIPT)
facts = importlib.util.module_from_spec(spec)
sys.modules["stylized_facts"] = facts  # its dataclasses look their module up
spec.loader.exec_module(facts)


def test_the_bass_fit_recovers_p_and_q_from_a_bass_curve_with_a_start() -> None:
    years = np.arange(0, 12, 1 / 52)
    for p, q, start in ((0.03, 0.38, 0.0), (0.3, 1.5, 0.1), (0.01, 0.6, 0.05)):
        noisy = facts.bass(years, p, q, start) + np.random.default_rng(1).normal(0, 0.003,
                                                                                  years.size)
        got_p, got_q = facts.fit_bass(years, noisy)
        assert abs(got_p - p) / p < 0.15 and abs(got_q - q) / q < 0.1


def test_seeding_is_untestable_in_a_saturated_market_and_judged_otherwise() -> None:
    seeding = next(f for f in facts.FACTS if f.name == "seeding mostly accelerates")
    base = {"acceleration": 0.5, "expansion": 0.0}
    assert facts.verdict(seeding, {**base, "final_off": 0.99}) == "untestable"
    assert facts.verdict(seeding, {**base, "final_off": 0.6}) == "yes"
    assert facts.verdict(seeding, {**base, "expansion": 0.2, "final_off": 0.6}) == "no"


def test_the_table_runs_and_a_bad_setting_is_refused() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--seeds", "1", "--n-buyers", "300",
                           "steps=60"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "S-shaped diffusion, Bass q per year" in done.stdout
    assert len([line for line in done.stdout.splitlines()
                if line.rstrip().endswith(("yes", "no", "untestable"))]) == len(facts.FACTS)
    bad = subprocess.run([sys.executable, str(SCRIPT), "market.need_rate=-1"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "market.need_rate" in bad.stderr
    assert "Traceback" not in bad.stderr
