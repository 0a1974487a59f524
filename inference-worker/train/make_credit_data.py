"""Writes data/credit-synthetic.csv: a SYNTHETIC credit data set drawn from a documented, seeded process.

No real credit data set with these six fields can be had offline (see docs/models.md), so the
applicants and their defaults are simulated. The generative process, all in one place:

    age                   uniform integer 21..70
    income                lognormal, median 42 000 * (1 + 0.01 * (age - 40)), sigma 0.45; 8 000..400 000, to 100
    credit_history_years  uniform(0, age - 18) * beta(2, 1.5), one decimal
    loan_term_months      one of 12, 24, 36, 48, 60, 72, 84
    loan_amount           lognormal, median 12 000, sigma 0.75; 1 000..150 000, to 100
    existing_debt         0 with probability 0.35, else lognormal, median 6 000, sigma 1.0, to 10
    logit = -2.0 + 2.2 * loan_amount / income + 2.8 * existing_debt / income
            - 0.07 * credit_history_years - 0.012 * (age - 40) + 0.012 * (loan_term_months - 36)
            + normal(0, 0.6)
    default               bernoulli(sigmoid(logit))

    python3 make_credit_data.py --seed 42
"""

import argparse
import pathlib

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROWS = 6000


def generate(seed):
    rng = np.random.default_rng(seed)
    age = rng.integers(21, 71, ROWS)
    income = np.exp(rng.normal(np.log(42_000 * (1 + 0.01 * (age - 40))), 0.45))
    income = np.round(np.clip(income, 8_000, 400_000), -2)
    history = np.round(rng.uniform(0, 1, ROWS) * (age - 18) * rng.beta(2, 1.5, ROWS), 1)
    term = rng.choice([12, 24, 36, 48, 60, 72, 84], ROWS)
    loan = np.round(np.clip(np.exp(rng.normal(np.log(12_000), 0.75, ROWS)), 1_000, 150_000), -2)
    debt = np.where(rng.uniform(0, 1, ROWS) < 0.35, 0.0, np.exp(rng.normal(np.log(6_000), 1.0, ROWS)))
    debt = np.round(debt, -1)
    logit = (-2.0 + 2.2 * loan / income + 2.8 * debt / income - 0.07 * history
             - 0.012 * (age - 40) + 0.012 * (term - 36) + rng.normal(0, 0.6, ROWS))
    default = (rng.uniform(0, 1, ROWS) < 1 / (1 + np.exp(-logit))).astype(int)
    return age, income, loan, term, history, debt, default


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    cols = generate(args.seed)
    out = HERE / "data" / "credit-synthetic.csv"
    with out.open("w") as f:
        f.write("age,income,loan_amount,loan_term_months,credit_history_years,existing_debt,default\n")
        for row in zip(*cols):
            a, inc, loan, term, hist, debt, d = row
            f.write(f"{int(a)},{inc:.0f},{loan:.0f},{int(term)},{hist:.1f},{debt:.0f},{int(d)}\n")
    print(f"wrote {out} ({len(cols[0])} rows, default rate {cols[-1].mean():.3f})")


if __name__ == "__main__":
    main()
