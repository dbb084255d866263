"""Table kinds are plug-ins (issue 22.2): a module ``tables/<kind>.py`` declaring ``KIND``,
``DEFAULTS``, ``SCHEMA`` and ``READS`` beside its ``build`` is a kind - the study file's
schema allows a table of that kind its own properties (and refuses another kind's, naming
it), and the registry builds it - with nothing else to edit."""

from __future__ import annotations

import textwrap

import pytest
import yaml

import minimal
from feasibility import config as study_config
from feasibility.analysis import Analysis, load_spec
from feasibility.config import ConfigError, load_study, problems, table_kinds, with_table_kinds
from feasibility.tables import registry

MINIMAL = "study: {title: x}\nredcap: {records: r.csv, dictionary: d.csv}\n"

# A new kind, in its own module: one row, the number of records the table is about.
TALLY = '''
"""Tally: how many records the table is about (a kind added in a test)."""
from feasibility.tables.base import Cells, TableContext
from feasibility.tables.common import cell

KIND = "tally"
DEFAULTS = {"row_label": "Records"}
SCHEMA = """
description: The number of records, one row.
properties:
  row_label: {type: string, description: "The row's label (default Records)."}
"""
READS = {}


def build(analysis, table_id, raw, small_cell_threshold=None):
    ctx = TableContext(analysis, table_id, raw, small_cell_threshold=small_cell_threshold)
    cells = Cells(ctx)
    for column in ctx.columns:
        n = len(column.index)
        cells.add("records", cell(ctx.cell_table, "", raw.get("row_label", DEFAULTS["row_label"]),
                                  column.id, "count", decimals=0, estimate=float(n), n=n))
    return cells.result()
'''


@pytest.fixture
def tally(tmp_path, monkeypatch):
    """A package ``plugins.tables`` holding the module of the kind ``tally`` only."""
    package = tmp_path / "plugins" / "tables"
    package.mkdir(parents=True)
    (tmp_path / "plugins" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "tally.py").write_text(TALLY)
    monkeypatch.syspath_prepend(str(tmp_path))
    return package


def test_every_kind_is_its_modules_declaration():
    """The kinds are the modules that declare one; the schema's list of kinds is theirs, and
    each module's declaration read from its source is what it holds when imported."""
    modules = registry.kinds()
    assert (
        set(modules)
        == set(table_kinds())
        >= {"baseline", "categorical", "change", "counts", "metrics", "adjusted", "tipping_point"}
    )
    schema = study_config.schema()
    assert schema["$defs"]["table"]["properties"]["kind"]["enum"] == list(table_kinds())
    for name, module in modules.items():
        declared = table_kinds()[name]
        assert module.KIND == name and module.DEFAULTS == declared["defaults"]
        assert yaml.safe_load(module.SCHEMA) == declared["schema"]
        assert f"table_{name}" in schema["$defs"]


def test_a_new_kind_module_is_picked_up_checked_and_built(tally):
    kinds = {**table_kinds(), **table_kinds(tally)}
    assert kinds["tally"]["module"] == "tally"
    root = with_table_kinds(yaml.safe_load(study_config.SCHEMA.read_text(encoding="utf-8")), kinds)
    study = yaml.safe_load(MINIMAL)
    study["tables"] = {"n": {"kind": "tally", "row_label": "People", "title": "How many"}}
    assert problems(study, root=root) == []
    # the registry builds it from its module
    modules = registry.kinds("plugins.tables", table_kinds(tally))
    spec = load_spec(
        {
            "timepoints": minimal.TIMEPOINTS,
            "flow": {"populations": {"participants": "has(demo)"}, "participants": "participants"},
            "tables": {"n": study["tables"]["n"]},
        },
        checked=True,
    )
    demo = [{"record_id": f"p{i}", "event": "enrol_arm_1", "sex": 1} for i in range(3)]
    result = registry.build_table(Analysis(minimal.study(demo=demo), spec), "n", modules=modules)
    assert result.cells[["row_label", "text", "n"]].values.tolist() == [["People", "3", 3]]
    # its property on a table of another kind is refused, naming the kind it belongs to
    study["tables"]["b"] = {"kind": "baseline", "row_label": "People"}
    found = problems(study, root=root)
    assert found == [
        "the study: unknown key tables.b.row_label: a property of table kind tally, "
        "not of kind baseline (this table's kind); tables.b allows: cell_table, "
        "columns, decimals, denominator, denominator_label, difference, "
        "footnote_marks, footnotes, kind, label, levels, missing, n_label, "
        "percent_decimals, population, rows, source_note, stub_label, timepoint, "
        "title, value_label"
    ]


def test_a_property_of_another_kind_is_refused_naming_file_line_key_and_kind(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text(
        MINIMAL
        + textwrap.dedent("""\
        tables:
          t2:
            kind: baseline
            title: Baseline
            measures: [{score: x}]
          t3:
            kind: change
            measures: [{score: x}]
            deltas: [0, -1]
        """)
    )
    with pytest.raises(ConfigError) as err:
        load_study(path)
    text = str(err.value)
    assert (
        f"{path} line 7: unknown key tables.t2.measures: a property of table kind change, "
        "not of kind baseline (this table's kind); tables.t2 allows: "
    ) in text
    assert (
        f"{path} line 11: unknown key tables.t3.deltas: a property of table kind "
        "tipping_point, not of kind change (this table's kind)"
    ) in text


def test_a_kind_declared_twice_or_with_an_unknown_schema_key_is_refused(tmp_path):
    for name in ("a", "b"):
        (tmp_path / f"{name}.py").write_text('KIND = "same"\nSCHEMA = ""\n')
    with pytest.raises(ValueError, match="b.py: table kind 'same' is declared twice"):
        table_kinds(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "c.py").write_text('KIND = "c"\nSCHEMA = "oneOf: []"\n')
    with pytest.raises(
        ValueError, match="SCHEMA may hold description, properties, required and \\$defs, not oneOf"
    ):
        table_kinds(other)
