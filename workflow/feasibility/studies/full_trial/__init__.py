"""The two-arm randomised trial (``config/studies/full-trial.yaml``): the draft of its
REDCap project (``make_crf``), which wrote the metadata files of ``data/full-trial/``."""
