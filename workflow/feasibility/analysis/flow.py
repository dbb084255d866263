"""Participant flow per arm: the counts of a CONSORT 2010 flow diagram, from declarations.

The study file's ``flow.consort`` lists the diagram's boxes, each a record-level
condition (``count``) with an optional breakdown (``reasons``) and the box it is a part
of (``part_of``; the boxes of one stage that are part of one box add up to it)::

    flow:
      consort:
        - {id: assessed, stage: enrolment, label: Assessed for eligibility, count: assessed}
        - {id: excluded, stage: enrolment, label: Excluded, part_of: assessed,
           count: assessed and not randomised, reasons: exclusion_reason}
        - {id: randomised, stage: enrolment, label: Randomised, part_of: assessed,
           count: randomised}
        - {id: allocated, stage: allocation, label: "Allocated to {arm_label}",
           part_of: randomised, count: randomised}
        - ...

Boxes of the enrolment stage are counted over everyone; the other stages' boxes per arm
(the ``arms`` section's allocation; ``per_arm`` overrides). The boxes of one stage that
are part of one box must add up to it record by record: each record of the box is in
exactly one of them (an excluded and a randomised record together are the records assessed; in
each arm, those who received the allocated intervention and those who did not are those
allocated to it). A flow that does not add up is an error naming the boxes and the
numbers, never a diagram that silently disagrees with the data.

:func:`consort_flow` returns a :class:`ConsortFlow`: ``frame`` is tidy (one row per box
and arm, and per reason), :meth:`ConsortFlow.n` looks a count up, :meth:`ConsortFlow.write`
saves the CSV a figure is drawn from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from feasibility.analysis.expressions import _code_key
from feasibility.analysis.spec import ConsortBox

COLUMNS = ["stage", "box", "label", "arm", "arm_label", "reason", "n", "part_of"]
NOT_RECORDED = "Not recorded"


@dataclass
class ConsortFlow:
    """The counts of every box (and reason), per arm where the box is per arm."""

    frame: pd.DataFrame
    boxes: tuple[ConsortBox, ...]
    arms: tuple[tuple[Any, str], ...]

    def n(self, box: str, arm: Any = None, reason: str = "") -> int:
        """The count of a box (for an arm code, for a reason)."""
        f = self.frame
        sel = (f["box"] == box) & (f["reason"] == reason)
        sel &= (f["arm"] == "") if arm is None else (f["arm"] == str(arm))
        if not sel.any():
            raise KeyError(
                f"no CONSORT count for box {box!r}"
                + (f", arm {arm!r}" if arm is not None else "")
                + (f", reason {reason!r}" if reason else "")
            )
        return int(f.loc[sel, "n"].iloc[0])

    def write(self, path) -> Path:
        from feasibility.io import write_csv

        write_csv(path, self.frame[COLUMNS])
        return Path(path)


def _condition(analysis, expr, where: str) -> np.ndarray:
    values = analysis.evaluate_rows(expr)
    if values.dtype.name != "boolean" and not pd.api.types.is_bool_dtype(values.dtype):
        raise ValueError(f"{where}: count must be a condition (true/false), e.g. randomised")
    return values.fillna(False).to_numpy(dtype=bool)


def _reasons(analysis, box: ConsortBox, where: str) -> tuple[np.ndarray, list[str]]:
    """Each record's reason as text, and the reasons' order."""
    v = analysis.evaluate(box.reasons)
    if v.is_scalar:
        text = np.full(len(analysis.records), "" if v.data is None else str(v.data), dtype=object)
        return text, [text[0]] if len(text) else []
    if v.level not in (None, "row"):
        raise ValueError(f"{where}: reasons give one value per instance; aggregate first")
    values = v.data
    choices = v.meta.get("choices")
    if choices:
        labels = {_code_key(c): str(t) for c, t in choices}
        text = np.array(
            [NOT_RECORDED if pd.isna(x) else labels.get(_code_key(x), str(x)) for x in values], dtype=object
        )
        order = [str(t) for _, t in choices]
    else:
        text = np.array([NOT_RECORDED if pd.isna(x) else str(x) for x in values], dtype=object)
        order = []
    if box.reason_levels:
        order = [str(x) for x in box.reason_levels]
    return text, order


def consort_flow(analysis) -> ConsortFlow:
    """The CONSORT counts the study file declares (``flow.consort``), checked."""
    spec = analysis.spec
    boxes = spec.consort
    if not boxes:
        raise ValueError("the study file declares no CONSORT boxes (flow.consort)")
    arms: tuple = ()
    arm_values = None
    if any(b.per_arm for b in boxes):
        arms = analysis.arm_levels()
        arm_values = analysis.variable(spec.arms.name).values
    masks: dict[str, np.ndarray] = {}
    rows: list[dict] = []
    arm_masks = []
    if arm_values is not None:
        keys = arm_values.map(lambda x: None if pd.isna(x) else _code_key(x))
        arm_masks = [(code, text, (keys == _code_key(code)).to_numpy(dtype=bool)) for code, text in arms]
    for box in boxes:
        where = f"flow.consort box {box.id!r}"
        mask = _condition(analysis, box.count, where)
        masks[box.id] = mask
        reasons = _reasons(analysis, box, where) if box.reasons is not None else None
        groups = arm_masks if box.per_arm else [("", "", np.ones(len(mask), dtype=bool))]
        for code, text, in_arm in groups:
            here = mask & in_arm
            label = box.label.replace("{arm_label}", text).replace("{arm}", str(code))
            base = dict(
                stage=box.stage,
                box=box.id,
                label=label,
                arm=str(code),
                arm_label=text,
                part_of=box.part_of or "",
            )
            rows.append({**base, "reason": "", "n": int(here.sum())})
            if reasons is not None:
                values, order = reasons
                seen = pd.Series(values[here]).value_counts(sort=False)
                names = [r for r in order if r in seen.index] + sorted(
                    r for r in seen.index if r not in order
                )
                for r in names:
                    rows.append({**base, "reason": r, "n": int(seen[r])})
    _check(boxes, masks, arm_masks)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return ConsortFlow(frame, boxes, tuple(arms))


def _check(boxes, masks: dict[str, np.ndarray], arm_masks) -> None:
    """The parts of each box add up to it, record by record (per arm where it is per arm)."""
    partitions: dict[tuple[str, str], list] = {}
    for b in boxes:
        if b.part_of:
            partitions.setdefault((b.part_of, b.stage), []).append(b)
    by_id = {b.id: b for b in boxes}
    for (parent_id, _stage), parts in partitions.items():
        parent = by_id[parent_id]
        groups = arm_masks if parent.per_arm else [("", "", np.ones(len(masks[parent.id]), bool))]
        for code, text, in_arm in groups:
            whole = masks[parent.id] & in_arm
            counted = np.zeros(len(whole), dtype=np.int64)
            for part in parts:
                part_mask = masks[part.id] & in_arm
                if part.per_arm and not parent.per_arm:
                    part_mask = part_mask & np.any([m for _, _, m in arm_masks], axis=0)
                counted += part_mask
            outside = int((counted.astype(bool) & ~whole).sum())
            twice = int((whole & (counted > 1)).sum())
            nowhere = int((whole & (counted == 0)).sum())
            if outside or twice or nowhere:
                names = " + ".join(f"{p.id!r} ({int((masks[p.id] & in_arm).sum())})" for p in parts)
                arm = f" in arm {text!r}" if code != "" else ""
                problems = []
                if nowhere:
                    problems.append(f"{nowhere} record(s) of {parent.id!r} are in none of them")
                if twice:
                    problems.append(f"{twice} record(s) are in more than one")
                if outside:
                    problems.append(f"{outside} record(s) counted in them are not in {parent.id!r}")
                raise ValueError(
                    f"CONSORT flow{arm}: {names} do not add up to {parent.id!r} "
                    f"({int(whole.sum())}): {'; '.join(problems)}. Correct the "
                    f"boxes' conditions (flow.consort) or the data."
                )


__all__ = ["ConsortFlow", "consort_flow", "COLUMNS"]
