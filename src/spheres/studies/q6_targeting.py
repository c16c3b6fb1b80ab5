"""Study Q6 (targeting): whom to seed or sponsor, and how much the choice matters.

The top-k by score, by degree, by followers, at random or by true influence (an oracle: the
upper reference).

From the store's ``steps`` (free trials given), ``strategies`` (final share of the seeding and
the sponsoring sellers), ``sellers`` (their profit per seller over the run, and the seeders'
reach at the last step, and the years until their mean reach first reached half of all buyers:
acceleration, as against expansion, the reach and share at the end) and ``agents`` (awareness
passed on by buyers, ``made_aware``). A run whose seeders never reached half of the buyers counts
the run's length (a lower bound, said in the label). Each rule is compared with ``random``: the
same seeds under another rule, so the difference is taken between the two sets of runs.
"""

from __future__ import annotations

import pandas as pd

from spheres.analysis.estimate import per_scenario
from spheres.analysis.figures import estimates_figure
from spheres.analysis.store import Store
from spheres.studies.base import Findings, Study, Verdict, key_effects
from spheres.studies.readings import read_difference

RULE, BASE = "sellers.targeting", "random"
MEASURES = [  # column, label, unit, digits
    ("trials", "free trials given", "", 0),
    ("seed_half_years", "years until the seeders' mean reach is half of all buyers (the run's "
                        "length if never)", "years", 2),
    ("sponsor_half_years", "years until the sponsors' mean reach is half of all buyers (the "
                           "run's length if never)", "years", 2),
    ("seed_reach", "seeders' reach at the end (share of buyers aware)", "", 3),
    ("made_aware", "awareness passed on by buyers (buyer-seller pairs)", "", 0),
    ("seed_sales", "seeders' sales per seller over the run", "purchases", 0),
    ("seed_share", "seeders' final market share", "", 3),
    ("sponsor_share", "sponsors' final market share", "", 3),
    ("seed_profit", "seeders' profit per seller", "cents", 0),
    ("sponsor_profit", "sponsors' profit per seller", "cents", 0),
]
READ = ("trials", "seed_half_years", "sponsor_half_years", "seed_sales", "seed_share",
        "sponsor_share", "seed_reach", "seed_profit")


def per_run(store: Store) -> pd.DataFrame:
    """Per run: the measures of :data:`MEASURES`."""
    return store.per_run("""
        WITH t AS (SELECT job, sum(trials) AS trials FROM steps GROUP BY job),
        s AS (SELECT job, any_value(final_share) FILTER (WHERE strategy = 'seed') AS seed_share,
                  any_value(final_share) FILTER (WHERE strategy = 'sponsor') AS sponsor_share
              FROM strategies GROUP BY job),
        p AS (SELECT job,
                  sum(profit) FILTER (WHERE marketing_lever = 'seed')
                      / count(DISTINCT seller_id) FILTER (WHERE marketing_lever = 'seed')
                      AS seed_profit,
                  sum(sales) FILTER (WHERE marketing_lever = 'seed')
                      / count(DISTINCT seller_id) FILTER (WHERE marketing_lever = 'seed')
                      AS seed_sales,
                  sum(profit) FILTER (WHERE marketing_lever = 'sponsor')
                      / count(DISTINCT seller_id) FILTER (WHERE marketing_lever = 'sponsor')
                      AS sponsor_profit
              FROM sellers GROUP BY job),
        r AS (SELECT job, avg(reach) AS seed_reach
              FROM sellers JOIN (SELECT job, max(step) AS last FROM steps GROUP BY job) USING (job)
              WHERE marketing_lever = 'seed' AND step = last GROUP BY job),
        a AS (SELECT job, sum(made_aware) AS made_aware FROM agents GROUP BY job),
        lever AS (SELECT job, step, marketing_lever, avg(reach) AS reach FROM sellers
                  WHERE marketing_lever IN ('seed', 'sponsor')
                  GROUP BY job, step, marketing_lever),
        h AS (SELECT job,
                  coalesce(min(step) FILTER (WHERE marketing_lever = 'seed' AND reach >= 0.5),
                           any_value(runs.steps)) / any_value(runs.steps_per_year)
                      AS seed_half_years,
                  coalesce(min(step) FILTER (WHERE marketing_lever = 'sponsor' AND reach >= 0.5),
                           any_value(runs.steps)) / any_value(runs.steps_per_year)
                      AS sponsor_half_years
              FROM lever JOIN runs USING (job) GROUP BY job)
        SELECT * FROM t JOIN s USING (job) JOIN p USING (job) LEFT JOIN r USING (job)
                        JOIN a USING (job) JOIN h USING (job)""")


def analyse(store: Store) -> Findings:
    """Each rule's outcomes, and each rule against random targeting."""
    found = Findings()
    runs = per_run(store)
    levels = {column: per_scenario(runs, column) for column, _, _, _ in MEASURES}
    for column, label, _, digits in MEASURES:
        for scenario in store.scenarios:
            found.number(label, scenario, levels[column][scenario], digits)
    for column, label, unit, digits in MEASURES:
        for where, rule, base, diff in key_effects(store, runs, column, RULE, base=BASE):
            found.number(f"{label}: difference from {base}", rule, diff, digits)
            if column in READ:
                found.readings.append(read_difference(
                    where, label, f"targeting by {rule.removeprefix(f'{RULE}=')}",
                    f"targeting by {base.removeprefix(f'{RULE}=')}", diff, digits, unit))
    base = next((s for s in store.scenarios if s == store.scenario(**{RULE: BASE})), None)
    found.figure("q6_outcomes.png", estimates_figure(
        [(label, [(s.removeprefix(f"{RULE}="), levels[column][s]) for s in store.scenarios])
         for column, label, _, _ in MEASURES],
        "Outcome by targeting rule (mean over seeds, 95% interval; dashed: random targeting)",
        reference={label: levels[column][base].value for column, label, _, _ in MEASURES}
        if base else None),
        "Free trials, how soon seeders and sponsors reach half of all buyers, the seeders' reach, "
        "word of mouth and sales, and the final share and profit of the seeding and sponsoring "
        "sellers under each targeting rule")
    return found


def seed_half_years(store: Store) -> pd.DataFrame:
    """Per run: years until the seeders' mean reach is half of all buyers."""
    return per_run(store)[["job", "seed_half_years"]].rename(
        columns={"seed_half_years": "value"})


VERDICT = Verdict(
    "seeding the top buyers by score makes seeders known to half the market sooner than "
    "seeding at random", seed_half_years,
    ("sellers.seed_k", "sellers.trial_cost", "market.p_word_of_mouth",
     "market.initial_awareness", "sellers.campaign_period", "market.need_shape"),
    arms=(f"{RULE}={BASE}", f"{RULE}=score"),
    measure="years to half reach at random minus by score")

STUDY = Study("q6_targeting", "Study Q6: targeting", analyse, VERDICT)
