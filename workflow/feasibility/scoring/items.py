"""Item-level rules shared by every instrument scorer.

* Item codes are checked against their coding (the instrument's): a value outside an
  item's coding stops scoring with a ``ValueError`` naming the column, the
  record_id and the value. Out-of-range answers are data errors, never scored.
* The paper's missing-item rule (Methods: "we imputed subscale averages in the
  cases of single items missing, and dropped whole cases in the case of multiple
  missing items"), configured per subscale in ``scoring.missing_items``: with at
  most ``max_missing`` items missing the mean of the answered items of the
  subscale stands in for each missing item; with more, the score is missing.
* Every imputation and every dropped score becomes a row of the scoring log
  (record_id, instrument, action, items_missing, detail; ``score_timepoint``
  adds the time point).

A scorer takes the questionnaire export (one row per record, a ``record_id``
column and the item columns as float with NaN for blank) and returns a
``Scored``: score columns on the index of ``items`` and log rows indexed by the
row of ``items`` they refer to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

IMPUTED = "imputed"
SCORE_MISSING = "score missing"
MISSING_METHODS = ("mean_of_answered", "none")


class Scored(NamedTuple):
    """Scores (index of ``items``) and log rows (index: the row of ``items``)."""

    scores: pd.DataFrame
    log: pd.DataFrame


def item_columns(prefix: str, numbers: Iterable[int]) -> list[str]:
    """``item_columns("hads_", [1, 3])`` -> ``["hads_1", "hads_3"]``."""
    return [f"{prefix}{i}" for i in numbers]


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float, np.number)) else repr(value)


@dataclass(frozen=True)
class Coding:
    """An item's allowed answers: choice ``(code, label)`` pairs, or a range ``vmin``..``vmax``
    (whole numbers when ``validation`` is ``integer``); the attributes of a CRF field."""

    choices: tuple = ()
    vmin: float | None = None
    vmax: float | None = None
    validation: str = ""


def check_codes(
    items: pd.DataFrame, columns: Iterable[str], instrument: str, coding: Mapping[str, Coding] | None = None
) -> None:
    """Raise ``ValueError`` at the first answer outside its item's coding.

    ``coding`` gives each column's :class:`Coding` (the instrument library passes the
    instrument's own codings; anything with ``choices``, ``vmin``, ``vmax`` and
    ``validation``, such as a CRF's fields, will do).
    Coded items (radio, dropdown) allow exactly their choice codes; numeric
    fields allow ``vmin``..``vmax`` (whole numbers when validated as integer).
    """
    if coding is None:
        raise TypeError(f"{instrument}: the items' coding is needed to check their answers")
    fields = coding
    same_coding: dict[tuple, list[str]] = {}
    for col in columns:
        fld = fields[col]
        same_coding.setdefault((fld.choices, fld.vmin, fld.vmax, fld.validation), []).append(col)
    for (choices, vmin, vmax, validation), cols in same_coding.items():
        block = items[cols]
        answered = block.notna().to_numpy()
        try:
            values = block.to_numpy(dtype=float)
        except (TypeError, ValueError):  # text in an item column: flagged below
            values = block.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            if choices:
                codes = [code for code, _ in choices]
                bad = answered & ~np.isin(values, codes)
                allowed = "codes " + ", ".join(map(str, codes))
            else:
                lo = -np.inf if vmin is None else vmin
                hi = np.inf if vmax is None else vmax
                bad = answered & ~((values >= lo) & (values <= hi))
                allowed = f"{_fmt(lo)} to {_fmt(hi)}"
                if validation == "integer":
                    bad |= answered & (values % 1 != 0)
                    allowed += ", whole numbers"
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(
                f"{instrument}: {cols[col]} = {_fmt(block.iat[row, col])} for record_id "
                f"{items['record_id'].iat[row]!r} is outside the item's coding ({allowed}); "
                f"{int(bad.sum())} such value(s) in {', '.join(cols)}. Correct the data; "
                "out-of-range answers are never scored."
            )


@dataclass(frozen=True)
class MissingItemRule:
    """How many items of a subscale may be missing, and how they are filled in."""

    max_missing: int
    method: str

    @classmethod
    def for_subscale(cls, scoring: Mapping, subscale: str) -> "MissingItemRule":
        """The rule for ``subscale`` from the config section ``scoring.missing_items``."""
        try:
            spec = scoring["missing_items"][subscale]
        except KeyError:
            raise ValueError(f"config scoring.missing_items has no rule for {subscale!r}") from None
        rule = cls(int(spec["max_missing"]), str(spec["method"]))
        if rule.method not in MISSING_METHODS:
            raise ValueError(
                f"scoring.missing_items.{subscale}.method must be one of "
                f"{MISSING_METHODS}, not {rule.method!r}"
            )
        if rule.method == "none" and rule.max_missing:
            raise ValueError(
                f"scoring.missing_items.{subscale}: method 'none' allows no missing items (max_missing: 0)"
            )
        return rule


def empty_log() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": pd.Series(dtype=str),
            "instrument": pd.Series(dtype=str),
            "action": pd.Series(dtype=str),
            "items_missing": pd.Series(dtype=int),
            "detail": pd.Series(dtype=str),
        }
    )


def log_rows(
    items: pd.DataFrame,
    where: pd.Series,
    instrument: str,
    action: str | pd.Series,
    items_missing: pd.Series,
    detail: pd.Series,
) -> pd.DataFrame:
    """Log rows for the rows of ``items`` flagged in ``where``."""
    rows = where[where].index
    if rows.empty:
        return empty_log()
    return pd.DataFrame(
        {
            "record_id": items.loc[rows, "record_id"].astype(str),
            "instrument": instrument,
            "action": action.loc[rows] if isinstance(action, pd.Series) else action,
            "items_missing": items_missing.loc[rows].astype(int),
            "detail": detail.loc[rows].astype(str),
        },
        index=rows,
    )


def describe_missing(missing: pd.DataFrame, describe: Callable[[list[str]], str]) -> pd.Series:
    """``describe(names of the missing items)`` for each row of a boolean frame.

    Computed once per distinct missing-item pattern (there are few), not per row.
    """
    bits = 1 << np.arange(missing.shape[1], dtype=np.int64)
    patterns, row_pattern = np.unique(missing.to_numpy() @ bits, return_inverse=True)
    texts = [describe([c for c, bit in zip(missing.columns, bits) if pattern & bit]) for pattern in patterns]
    return pd.Series(np.array(texts, dtype=object)[row_pattern], index=missing.index, dtype=object)


def sum_score(items: pd.DataFrame, columns: list[str], subscale: str, scoring: Mapping) -> Scored:
    """Summed subscale score under the paper's missing-item rule.

    With ``k`` of ``n`` items missing and ``k <= max_missing`` the score is the
    sum of the answered items plus ``k`` times their mean (= sum x n / (n - k)),
    so it may be non-integer; with more missing items the score is missing.
    """
    rule = MissingItemRule.for_subscale(scoring, subscale)
    n = len(columns)
    missing = items[columns].isna()
    n_missing = missing.sum(axis=1)
    scorable = (n_missing <= rule.max_missing) & (n_missing < n)
    answered_sum = items[columns].sum(axis=1)
    score = (answered_sum * n / (n - n_missing).where(scorable)).where(scorable)

    def describe(names: list[str]) -> str:
        k = len(names)
        outcome = (
            f"mean of the {n - k} answered items imputed"
            if k <= rule.max_missing and k < n
            else f"more than {rule.max_missing} missing"
        )
        return f"{k} of {n} items missing ({', '.join(names)}); {outcome}"

    logged = n_missing > 0
    action = pd.Series(np.where(scorable, IMPUTED, SCORE_MISSING), index=items.index)
    log = log_rows(items, logged, subscale, action, n_missing, describe_missing(missing[logged], describe))
    return Scored(score.rename(subscale).to_frame(), log)


def combine(*parts: Scored) -> Scored:
    """Scores side by side and their logs stacked."""
    return Scored(pd.concat([p.scores for p in parts], axis=1), pd.concat([p.log for p in parts]))


def score_subscales(
    items: pd.DataFrame,
    subscales: Mapping[str, list[str]],
    instrument: str,
    scoring: Mapping,
    coding: Mapping[str, Coding] | None = None,
) -> Scored:
    """Check every item's coding, then score each summed subscale."""
    check_codes(items, [c for cols in subscales.values() for c in cols], instrument, coding)
    return combine(*(sum_score(items, cols, name, scoring) for name, cols in subscales.items()))


def pass_through(
    items: pd.DataFrame,
    sources: Mapping[str, str],
    instrument: str,
    coding: Mapping[str, Coding] | None = None,
) -> Scored:
    """Single-item measures reported as answered (``score name -> item column``).

    A blank single item is simply missing: there is nothing to impute or drop,
    so nothing is logged.
    """
    check_codes(items, sources.values(), instrument, coding)
    scores = pd.DataFrame(
        {name: items[col].astype(float) for name, col in sources.items()}, index=items.index
    )
    return Scored(scores, empty_log())
