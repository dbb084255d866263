"""Recruitment over time (counts by month, by hand from the fixtures) and the figures: drawn at
the printed width, no text under 7 pt, byte-identical saves, every number in the alt text."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.text import Text

from feasibility.quality import completion_status, draw_completeness, draw_recruitment, recruitment_by_month
from feasibility.quality.figures import WIDTH_IN, completeness_alt_text, make_completeness, make_recruitment
from feasibility.quality.recruitment import RecruitmentError
from feasibility.quality.settings import Recruitment


def _months(rec, panel: str) -> dict:
    part = rec.frame[rec.frame["panel"] == panel]
    return {g: part.loc[part["group"] == g, "recruited"].tolist() for g in dict.fromkeys(part["group"])}


def test_classic_recruitment_by_month_group_and_source(classic):
    # consent dates: 1 2024-01-05 (B), 2 2024-01-10 (C), 3 2024-02-01 (L), 4 2024-02-15 (B), 5 2024-03-01 (C)
    rec = recruitment_by_month(classic, Recruitment(date_field="enr_consent_date", source_field="enr_site"))
    assert list(dict.fromkeys(rec.frame["month"])) == ["2024-01", "2024-02", "2024-03"]
    assert _months(rec, "all") == {"All records": [2, 2, 1]}
    assert _months(rec, "dag") == {"birmingham": [1, 1, 0], "coventry": [1, 0, 1], "leeds": [0, 1, 0]}
    assert _months(rec, "source") == {"Birmingham": [1, 1, 0], "Coventry": [1, 0, 1], "Leeds": [0, 1, 0]}
    assert rec.frame.loc[rec.frame["panel"] == "all", "cumulative"].tolist() == [2, 4, 5]
    assert rec.without_date == 0 and rec.recruited == 5
    assert not rec.frame["month"].str.len().ne(7).any()  # month precision only


def test_longitudinal_recruitment_at_an_event(long):
    # con_date at baseline: 101 2024-01-08, 102 2024-01-15, 103 2024-02-05; 104 was never consented
    rec = recruitment_by_month(long, Recruitment(date_field="con_date", event="baseline_arm_1"))
    assert _months(rec, "all") == {"All records": [2]}  # arm 2's baseline is another event
    rec = recruitment_by_month(long, Recruitment(date_field="con_date"))
    assert _months(rec, "all") == {"All records": [2, 1]}
    assert rec.without_date == 1
    assert set(rec.frame["panel"]) == {"all"}  # no data access groups


def test_no_date_field_no_recruitment(classic):
    assert recruitment_by_month(classic, Recruitment()) is None


@pytest.mark.parametrize(
    "settings, message",
    [
        (Recruitment(date_field="enr_dob"), "is an identifier, dropped after validation"),
        (Recruitment(date_field="enr_sex"), "is not a date or datetime field"),
        (Recruitment(date_field="enr_consent"), "'enr_consent' is not a field of the project"),
        (Recruitment(date_field="enr_consent_date", source_field="enr_conditions"), "is not a coded field"),
        (Recruitment(date_field="enr_consent_date", event="baseline_arm_1"), "the project has no events"),
    ],
)
def test_recruitment_settings_that_do_not_fit_the_project(classic, settings, message):
    with pytest.raises(RecruitmentError, match=message):
        recruitment_by_month(classic, settings)


def _texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]


@pytest.mark.parametrize("name", ["classic", "long", "pilot", "lab"])
def test_completeness_figure_at_printed_size(fixture_data, name):
    data = fixture_data(name)
    fig = draw_completeness(data)
    assert fig.get_figwidth() == pytest.approx(WIDTH_IN)
    sizes = [t.get_fontsize() for t in _texts(fig)]
    assert min(sizes) >= 7.5
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    for t in _texts(fig):  # nothing drawn off the figure
        box = t.get_window_extent(renderer)
        assert box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1 and box.y0 >= page.y0 - 1, t.get_text()


def test_completeness_cells_and_alt_text(long):
    status = completion_status(long)
    fig = draw_completeness(long, status)
    shown = [t.get_text() for t in _texts(fig)]
    assert shown.count("3/3") == 1 and shown.count("1/2") == 3 and shown.count("0/1") == 2
    assert "Arm 1 (3 records)" in shown and "Arm 2 (1 record)" in shown
    alt = completeness_alt_text(long, status)
    assert "Arm 1: Screening at Screening: 3 of 3 complete (100%)" in alt
    assert "Followup at Month 6: 1 of 2 complete (50%)" in alt


def test_cell_text_falls_back_to_a_percentage_when_the_counts_do_not_fit(long):
    from types import SimpleNamespace

    from feasibility.quality.figures import _cell_text

    fig = draw_completeness(long)
    row = SimpleNamespace(
        designated=True, records=123456, complete=100000, proportion_complete=100000 / 123456
    )
    assert _cell_text(fig, row, 1.5) == "100,000/123,456"
    assert _cell_text(fig, row, 0.5) == "81%"
    assert _cell_text(fig, row, 0.1) == ""
    assert _cell_text(fig, SimpleNamespace(designated=True, records=0), 1.0) == "–"
    assert _cell_text(fig, SimpleNamespace(designated=False), 1.0) == ""


def test_figures_are_byte_identical_and_carry_their_alt_text(classic, tmp_path):
    rec = recruitment_by_month(classic, Recruitment(date_field="enr_consent_date", source_field="enr_site"))
    for run in ("a", "b"):
        make_completeness(classic, tmp_path / run / "c.svg", tmp_path / run / "c.png")
        make_recruitment(rec, tmp_path / run / "r.svg", tmp_path / run / "r.png")
    for name in ("c.svg", "c.png", "r.svg", "r.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    alt = (tmp_path / "a" / "r.alt.txt").read_text()
    assert "Jan 2024 to Mar 2024: 5 in all" in alt and "birmingham 2, coventry 2, leeds 1" in alt
    svg = (tmp_path / "a" / "r.svg").read_text()
    assert "2024-01-05" not in svg and "Ann" not in svg


def test_recruitment_figure_groups_small_groups_together(classic):
    rec = recruitment_by_month(classic, Recruitment(date_field="enr_consent_date", source_field="enr_site"))
    fig = draw_recruitment(rec, max_lines=2)
    legend = [t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()]
    assert "2 other groups (3)" in legend and "All records (5)" in legend
    assert min(t.get_fontsize() for t in _texts(fig)) >= 7.5
    assert fig.get_figwidth() == pytest.approx(WIDTH_IN)


def test_recruitment_frame_has_no_exact_dates(classic):
    rec = recruitment_by_month(classic, Recruitment(date_field="enr_consent_date"))
    assert pd.to_datetime(rec.frame["month"], format="%Y-%m").notna().all()
