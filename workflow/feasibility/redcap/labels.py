"""Labels in the validated tables, as a study file asks (``validation.labels``, issue 25.8).

REDCap's raw export holds codes; people reading the data expect the labels (REDCapTidieR
gives labelled factors, logical yes/no and a combined checkbox column on request). With
the setting on, each form's table gains, beside the coded columns it keeps:

* ``<field>_label`` for a radio or dropdown field: its value labels as a pandas category,
  the categories in the choices' order (two codes sharing a label share a category);
* ``<field>_bool`` for a yes/no or true/false field: 1 is True, 0 is False;
* ``<field>`` for a checkbox: the labels of its ticked choices, in the choices' order,
  joined with `` | `` (blank when none is ticked or a missing-data code stands for the field).

A new column whose name is already taken (a field or another column of the table) is not
made, and a note says so. Returns field -> new column, for the codebook.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .model import Project, checkbox_column

SEPARATOR = " | "


def add_labels(project: Project, tables: dict[str, pd.DataFrame]) -> tuple[dict[str, str], list[str]]:
    made: dict[str, str] = {}
    notes: list[str] = []
    for form in project.forms:
        df = tables.get(form.name)
        if df is None:
            continue
        new: dict[str, object] = {}
        for fld in project.form_fields(form.name):
            if fld.type in ("radio", "dropdown") and fld.name in df:
                name, values = f"{fld.name}_label", _categories(fld, df[fld.name])
            elif fld.type in ("yesno", "truefalse") and fld.name in df:
                name = f"{fld.name}_bool"
                codes = df[fld.name]
                values = pd.array(
                    np.where(codes.isna(), None, codes.astype("Int64").fillna(0).to_numpy() == 1),
                    dtype="boolean",
                )
            elif fld.type == "checkbox":
                cols = [(checkbox_column(fld.name, c), label) for c, label in fld.choices]
                cols = [(c, label) for c, label in cols if c in df]
                if not cols:
                    continue
                name, values = fld.name, _combined(df, cols)
            else:
                continue
            if name in df or name in new or (name in project.field and name != fld.name):
                notes.append(f"labels: column {name} of form {form.name} is not made (the name is taken)")
                continue
            new[name] = values
            made[fld.name] = name
        if new:
            out = df.copy()
            for name, values in new.items():
                owner = name.removesuffix("_label").removesuffix("_bool")
                after = [c for c in out.columns if c == owner or c.startswith(f"{owner}___")]
                position = list(out.columns).index(after[-1]) + 1 if after else len(out.columns)
                out.insert(position, name, values)
            tables[form.name] = out
    return made, notes


def _categories(fld, codes: pd.Series) -> pd.Categorical:
    labels = {str(c): label for c, label in fld.choices}
    order = list(dict.fromkeys(label for _, label in fld.choices))
    text = codes.astype("string").map(
        lambda c: labels.get(c) if isinstance(c, str) else None, na_action="ignore"
    )
    return pd.Categorical(text.astype(object).where(text.notna(), None), categories=order)


def _combined(df: pd.DataFrame, cols: list[tuple[str, str]]) -> pd.arrays.StringArray:
    ticked = np.column_stack([df[c].fillna(False).to_numpy(dtype=bool) for c, _ in cols])
    known = np.column_stack([df[c].notna().to_numpy() for c, _ in cols]).any(axis=1)
    labels = np.array([label for _, label in cols], dtype=object)
    out = [SEPARATOR.join(labels[row]) if row.any() else None for row in ticked]
    out = [v if k else None for v, k in zip(out, known)]
    return pd.array(out, dtype="string")


__all__ = ["add_labels", "SEPARATOR"]
