"""Missingness per field per event and form completion per site and event (issue 24.5): the
split counts add up to the pooled ones of the report's other tables, on every fixture project."""

from __future__ import annotations

import pytest

from feasibility.quality.counts import completion_by_site, completion_site_cells, completion_status
from feasibility.quality.figures import completeness_sites_alt_text, draw_completeness_by_site
from feasibility.quality.missingness import field_missingness, missingness_by_event, missingness_event_cells

FIXTURES = ("classic", "long", "pilot", "lab")


@pytest.mark.parametrize("name", FIXTURES)
def test_missingness_by_event_adds_up_to_the_missingness_table(fixture_data, name):
    data = fixture_data(name)
    by_event = missingness_by_event(data)
    sums = by_event.groupby("field")[["rows", "answered", "blank"]].sum()
    for item in field_missingness(data):
        if not item.rows:
            continue
        assert (
            int(sums.loc[item.field, "rows"]),
            int(sums.loc[item.field, "answered"]),
            int(sums.loc[item.field, "blank"]),
        ) == (item.rows, item.answered, item.blank), item.field
    cells = missingness_event_cells(data, by_event)
    assert set(cells["row_label"]) == set(by_event.loc[by_event["blank"] > 0, "field"])


@pytest.mark.parametrize("name", FIXTURES)
def test_completion_by_site_adds_up_to_the_completion_table(fixture_data, name):
    data = fixture_data(name)
    pooled = completion_status(data).set_index(["arm", "event", "form"])
    by_site = completion_by_site(data)
    sites = data.dags if data.has_dags else ["No group"]
    assert list(dict.fromkeys(by_site["site"])) == sites
    summed = (
        by_site[by_site["designated"]]
        .groupby(["arm", "event", "form"])[["records", "complete", "no_data"]]
        .sum()
    )
    for key, row in summed.iterrows():
        assert (int(row["records"]), int(row["complete"]), int(row["no_data"])) == (
            int(pooled.loc[key, "records"]),
            int(pooled.loc[key, "complete"]),
            int(pooled.loc[key, "no_data"]),
        ), key
    cells = completion_site_cells(data, by_site)
    assert set(cells["column"]) == set(sites)
    assert set(cells["row_label"]) <= {data.form_label(f["name"]) for f in data.forms}  # labels, not names


def test_the_small_multiples_have_a_panel_per_site(fixture_data):
    data = fixture_data("classic")  # three data access groups
    by_site = completion_by_site(data)
    fig = draw_completeness_by_site(data, by_site)
    titles = [t.get_text() for t in fig.texts]
    assert [t.split(" (")[0] for t in titles if "record" in t] == data.dags
    assert len(fig.axes) == len(data.dags) + 1  # + the colour bar
    alt = completeness_sites_alt_text(data, by_site)
    assert all(f"{site}: " in alt for site in data.dags)
