"""The report's figures, one module per kind, each drawn from the analysis dataset and a
declaration in the study file's ``figures`` section (docs/figures.md):

* ``flow``: the CONSORT 2010 participant-flow diagram of ``flow.consort`` (one column, or
  the arms side by side);
* ``recruitment``: cumulative numbers by calendar month, all together and by site, with
  the recruitment sources;
* ``completeness``: forms returned of those expected, by time point (per arm).

``spec`` reads the declarations (``schemas/config.figures.schema.yaml``), ``data`` the
values of their expressions, ``common`` holds the style, text measurement and byte-stable
saving every figure shares, and ``build.make_figure`` is the figure rule's one call.
"""
