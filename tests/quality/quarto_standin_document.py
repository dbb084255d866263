"""Stand-in for the `quarto` command line that renders whichever document it is given.

``quarto render INPUT --to FORMAT --output-dir DIR``: INPUT is a project folder (its
``feasibility.qmd``) or one ``.qmd`` file; writes ``<stem>.html`` (``--to html``) or
``<stem>.pdf`` (``--to typst``) into DIR and logs its arguments to $STANDIN_QUARTO_LOG.
"""

import json
import os
import sys
from pathlib import Path

args = sys.argv[1:]
with open(os.environ["STANDIN_QUARTO_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({"argv": args, "cwd": os.getcwd()}) + "\n")
source = Path(args[1])
stem = source.stem if source.suffix == ".qmd" else "feasibility"
to = args[args.index("--to") + 1]
out = Path(args[args.index("--output-dir") + 1])
name = f"{stem}.html" if to == "html" else f"{stem}.pdf"
(out / name).write_text(f"stand-in quarto output of {source.name}: {to}\n", encoding="utf-8")
