"""EQ-5D-5L: health profile, EQ VAS and index value.

Herdman M, et al. Development and preliminary testing of the new five-level
version of EQ-5D (EQ-5D-5L). Qual Life Res 2011;20:1727-36. Five dimensions
(mobility MO, self-care SC, usual activities UA, pain/discomfort PD,
anxiety/depression AD), each level 1 (no problems) to 5 (extreme problems /
unable to); the profile is written as a five-digit health state ("21345"); the
EQ VAS is 0-100.

The index value comes from one of two sources (config ``scoring.eq5d_index``):

* ``method: value_set`` - an additive value set built from published
  coefficients (``VALUE_SETS``; default ``england_5l_2018``);
* ``method: mapping_table`` - a user-supplied lookup table, e.g. the NICE DSU
  5L -> 3L mapping conditional on age band and sex that the paper used (Stata
  ``eq5dmap``). Such tables are published only as lookup tables and are not
  shipped with the project; ``docs/eq5d_mapping_tables.md`` gives the layout.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from feasibility.scoring.items import SCORE_MISSING, Scored, check_codes, describe_missing, log_rows

DIMENSIONS = ("mo", "sc", "ua", "pd", "ad")
LEVEL_COLUMNS = [f"eq5d_{d}" for d in DIMENSIONS]
VAS = "eq5d_vas"

# NICE DSU mapping strata (Hernández Alava et al., PharmacoEconomics 2023;41:199)
AGE_BANDS = ("18-34", "35-44", "45-54", "55-64", "65+")
AGE_BAND_EDGES = (18, 35, 45, 55, 65, np.inf)
SEXES = ("male", "female")
STATE_COLUMNS = ("state", "state_5l")


# ----------------------------------------------------------------------------- profile
def health_state(levels: pd.DataFrame) -> pd.Series:
    """Five-digit health state ("21345") from the level columns; NA if any is missing."""
    lv = levels[LEVEL_COLUMNS]
    complete = lv.notna().all(axis=1)
    code = (lv.fillna(0).to_numpy() @ np.array([10_000, 1_000, 100, 10, 1])).astype(np.int64)
    return pd.Series(code.astype(str), index=lv.index, dtype=object).where(complete)


# ----------------------------------------------------------------------------- value sets
@dataclass(frozen=True)
class ValueSet:
    """An additive EQ-5D value set.

    U = 1 - ``any_problem`` (if any dimension is above level 1) - the decrement of
    each dimension's level - ``any_level_3`` (if any dimension is at level 3).
    """

    name: str
    source: str
    levels: int  # 3 for a 3L value set, 5 for 5L
    decrements: Mapping[str, tuple[float, ...]]  # per dimension, levels 2..levels
    any_problem: float = 0.0
    any_level_3: float = 0.0

    def index(self, levels: pd.DataFrame) -> pd.Series:
        """Index value of each complete profile (3 decimals, as the coefficients); NaN otherwise.

        ``levels`` holds the level columns and, for error messages, ``record_id``.
        """
        lv = levels[LEVEL_COLUMNS]
        too_high = lv > self.levels
        if too_high.to_numpy().any():
            col = too_high.any().idxmax()
            row = too_high[col].idxmax()
            who = levels.at[row, "record_id"] if "record_id" in levels else row
            raise ValueError(
                f"value set {self.name} values {self.levels}-level states only: "
                f"{col} = {lv.at[row, col]:g} for record_id {who!r}"
            )
        values = lv.to_numpy(dtype=float)
        complete = ~np.isnan(values).any(axis=1)
        level0 = np.where(complete[:, None], values, 1).astype(int) - 1  # 0-based level
        table = np.array([(0.0, *self.decrements[d]) for d in DIMENSIONS])
        decrement = table[np.arange(len(DIMENSIONS)), level0].sum(axis=1)
        decrement += self.any_problem * (level0 > 0).any(axis=1)
        decrement += self.any_level_3 * (level0 == 2).any(axis=1)
        return pd.Series(
            np.where(complete, np.round(1 - decrement, 3), np.nan), index=lv.index, name="eq5d_index"
        )


UK_3L_DOLAN_1997 = ValueSet(
    "uk_3l_dolan_1997",
    "Dolan P. Modeling valuations for EuroQol health states. Med Care 1997;35:1095-108 (UK 3L TTO value set)",
    levels=3,
    decrements={
        "mo": (0.069, 0.314),
        "sc": (0.104, 0.214),
        "ua": (0.036, 0.094),
        "pd": (0.123, 0.386),
        "ad": (0.071, 0.236),
    },
    any_problem=0.081,
    any_level_3=0.269,
)
"""UK EQ-5D-3L value set (Dolan 1997); for 3-level states only (levels 1-3)."""

ENGLAND_5L_2018 = ValueSet(
    "england_5l_2018",
    "Devlin NJ, Shah KK, Feng Y, Mulhern B, van Hout B. Valuing health-related quality "
    "of life: an EQ-5D-5L value set for England. Health Econ 2018;27:7-22, "
    "doi:10.1002/hec.3564",
    levels=5,
    decrements={
        "mo": (0.058, 0.076, 0.207, 0.274),
        "sc": (0.050, 0.080, 0.164, 0.203),
        "ua": (0.050, 0.063, 0.162, 0.184),
        "pd": (0.063, 0.084, 0.276, 0.335),
        "ad": (0.078, 0.104, 0.285, 0.289),
    },
)
"""England EQ-5D-5L value set (Devlin et al. 2018); the project's default."""

UK_5L_2026 = ValueSet(
    "uk_5l_2026",
    "UK EQ-5D-5L value set, Value Health 2026, doi:10.1016/j.jval.2026.03.008 "
    "(secondary source: coefficients from one public package's table)",
    levels=5,
    decrements={
        "mo": (0.032, 0.058, 0.179, 0.279),
        "sc": (0.038, 0.060, 0.162, 0.206),
        "ua": (0.049, 0.086, 0.184, 0.212),
        "pd": (0.056, 0.066, 0.371, 0.479),
        "ad": (0.041, 0.126, 0.313, 0.391),
    },
)
"""UK EQ-5D-5L value set (2026). Secondary source: the coefficients come from one
public package's table, not from the publication itself."""

VALUE_SETS: dict[str, ValueSet] = {v.name: v for v in (UK_3L_DOLAN_1997, ENGLAND_5L_2018, UK_5L_2026)}
DEFAULT_VALUE_SET = ENGLAND_5L_2018.name


# ----------------------------------------------------------------------------- mapping tables
def age_band(age: pd.Series) -> pd.Series:
    """NICE DSU age band of each age in years (18-34, ..., 65+); NA under 18 or unknown."""
    bands = pd.cut(pd.to_numeric(age), bins=AGE_BAND_EDGES, right=False, labels=AGE_BANDS)
    return bands.astype(object).where(bands.notna())


def load_mapping_table(path: str | os.PathLike, value_column: str | None = None) -> pd.DataFrame:
    """Read a user-supplied EQ-5D lookup table (layout: docs/eq5d_mapping_tables.md).

    The file is a CSV with the health state as ``state`` (or ``state_5l``; five
    digits 1-5) or as the columns ``mo, sc, ua, pd, ad``; optionally ``age_band``
    (18-34, 35-44, 45-54, 55-64, 65+) and ``sex`` (male/female, any case); and a
    value column, named by ``value_column`` or else the only other column.
    Returns the columns ``state``, [``age_band``], [``sex``], ``value`` with one
    row per key; a malformed table raises ``ValueError``.
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw.columns = raw.columns.str.strip()
    raw = raw.apply(lambda col: col.str.strip())
    where = f"EQ-5D mapping table {os.fspath(path)}"

    def fail(column: str, bad: pd.Series, expected: str):
        row = bad.idxmax()
        raise ValueError(f"{where}: {column} = {raw.at[row, column]!r} on line {row + 2} is not {expected}")

    state_column = next((c for c in STATE_COLUMNS if c in raw), None)
    if state_column:
        state = raw[state_column]
    elif set(DIMENSIONS) <= set(raw.columns):
        state = raw["mo"].str.cat([raw[d] for d in DIMENSIONS[1:]])
        state_column = "mo, sc, ua, pd, ad"
    else:
        raise ValueError(f"{where}: needs a 'state' column or the columns mo, sc, ua, pd, ad")
    bad = ~state.str.fullmatch(r"[1-5]{5}")
    if bad.any():
        row = bad.idxmax()
        raise ValueError(
            f"{where}: state {state[row]!r} ({state_column}) on line {row + 2} is not five levels 1-5"
        )
    table = pd.DataFrame({"state": state})
    if "age_band" in raw:
        bad = ~raw["age_band"].isin(AGE_BANDS)
        if bad.any():
            fail("age_band", bad, "one of " + ", ".join(AGE_BANDS))
        table["age_band"] = raw["age_band"]
    if "sex" in raw:
        sex = raw["sex"].str.lower()
        if (bad := ~sex.isin(SEXES)).any():
            fail("sex", bad, "male or female")
        table["sex"] = sex

    keys = {*STATE_COLUMNS, *DIMENSIONS, "age_band", "sex"}
    candidates = [c for c in raw.columns if c not in keys]
    if value_column is None:
        if len(candidates) != 1:
            raise ValueError(
                f"{where}: name the value column (value_column=...); "
                f"candidates: {', '.join(candidates) or 'none'}"
            )
        value_column = candidates[0]
    elif value_column not in candidates:
        raise ValueError(
            f"{where}: no value column {value_column!r}; candidates: {', '.join(candidates) or 'none'}"
        )
    value = pd.to_numeric(raw[value_column], errors="coerce")
    if (bad := ~value.le(1)).any():  # also catches blanks and text
        fail(value_column, bad, "a number of at most 1")
    table["value"] = value.astype(float)

    if (dup := table.duplicated(list(table.columns[:-1]), keep=False)).any():
        raise ValueError(
            f"{where}: {int(dup.sum())} rows repeat a key, e.g. line "
            f"{dup.idxmax() + 2}; each state (and age band and sex) once"
        )
    return table


def lookup_mapping_table(table: pd.DataFrame, state, age=None, sex=None):
    """Index value of each (state, age in years, sex) from a loaded mapping table.

    ``state``, ``age`` and ``sex`` are aligned Series (or scalars, giving a float);
    ages are put into the table's age bands and sex ("Female"/"Male") matched
    case-insensitively. Only the keys the table has are used; a key missing
    from the table (or an age under 18) gives NaN.
    """
    if isinstance(state, str):

        def one(x):
            return None if x is None else pd.Series([x])

        return float(lookup_mapping_table(table, pd.Series([state]), one(age), one(sex)).iloc[0])
    keys = pd.DataFrame({"state": state})
    for key, given, to_key in (("age_band", age, age_band), ("sex", sex, _sex_key)):
        if key in table:
            if given is None:
                raise ValueError(
                    f"this EQ-5D mapping table is conditional on {key}: supply age and sex (demographics)"
                )
            keys[key] = to_key(given)
    found = keys.merge(table, how="left", on=list(keys.columns), validate="many_to_one")
    return pd.Series(found["value"].to_numpy(), index=keys.index, name="eq5d_index")


def _sex_key(sex: pd.Series) -> pd.Series:
    return sex.astype("string").str.lower().astype(object)


def index_from_config(eq5d_index: Mapping | None) -> ValueSet | pd.DataFrame:
    """The value set or loaded mapping table named by config ``scoring.eq5d_index``.

    ``method: value_set`` with ``value_set`` (default england_5l_2018), or
    ``method: mapping_table`` with ``mapping_table`` (path) and optionally
    ``value_column``.
    """
    cfg = dict(eq5d_index or {})
    method = cfg.get("method") or "value_set"
    if method == "value_set":
        name = cfg.get("value_set") or DEFAULT_VALUE_SET
        if name not in VALUE_SETS:
            raise ValueError(f"scoring.eq5d_index.value_set {name!r} is not one of {', '.join(VALUE_SETS)}")
        return VALUE_SETS[name]
    if method == "mapping_table":
        if not cfg.get("mapping_table"):
            raise ValueError(
                "scoring.eq5d_index.method is mapping_table but "
                "scoring.eq5d_index.mapping_table (a path) is not set"
            )
        return load_mapping_table(cfg["mapping_table"], cfg.get("value_column"))
    raise ValueError(f"scoring.eq5d_index.method must be value_set or mapping_table, not {method!r}")


# ----------------------------------------------------------------------------- scorer
def score_eq5d(
    items: pd.DataFrame,
    index: ValueSet | pd.DataFrame,
    demographics: pd.DataFrame | None = None,
    coding: Mapping | None = None,
) -> Scored:
    """Levels, health state, VAS and index value; an incomplete profile has no state or index.

    ``index`` is a ``ValueSet`` or a table from ``load_mapping_table``;
    ``demographics`` (record_id, age, sex) is needed for age/sex-conditional tables.
    Logged as "score missing": incomplete profiles, and complete ones the mapping
    table has no value for.
    """
    check_codes(items, [*LEVEL_COLUMNS, VAS], "EQ-5D-5L", coding)
    levels = items[LEVEL_COLUMNS].astype(float)
    state = health_state(levels)
    age = sex = None
    if isinstance(index, ValueSet):
        value = index.index(items)
    else:
        if demographics is not None:
            people = demographics.assign(record_id=demographics["record_id"].astype(str))
            if people["record_id"].duplicated().any():
                raise ValueError("demographics has more than one row for a record_id")
            people = people.set_index("record_id")
            ids = items["record_id"].astype(str)
            age, sex = ids.map(people["age"]), ids.map(people["sex"])
        value = lookup_mapping_table(index, state, age, sex)
    scores = levels.assign(eq5d_state=state, eq5d_vas=items[VAS].astype(float), eq5d_index=value)

    missing = levels.isna()
    n_missing = missing.sum(axis=1)
    incomplete = n_missing > 0
    not_found = ~incomplete & value.isna()
    detail_incomplete = describe_missing(
        missing[incomplete],
        lambda names: (
            f"{len(names)} of 5 dimensions missing ({', '.join(names)}); no health state or index value"
        ),
    )
    detail_not_found = "no value in the mapping table for state " + state[not_found]
    if age is not None:
        detail_not_found += ", age band " + age_band(age[not_found]).fillna("unknown")
    if sex is not None:
        detail_not_found += ", sex " + sex[not_found].fillna("unknown").astype(str)
    log = pd.concat(
        [
            log_rows(items, incomplete, "eq5d_index", SCORE_MISSING, n_missing, detail_incomplete),
            log_rows(items, not_found, "eq5d_index", SCORE_MISSING, n_missing, detail_not_found),
        ]
    )
    return Scored(scores, log)
