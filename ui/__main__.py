"""`python -m ui [--host H] [--port P] [--index DIR] [--config FILE]`: the same as `rag serve`."""

import sys

from rag.cli import main

if __name__ == "__main__":
    main(["serve", *sys.argv[1:]], prog_name="python -m ui")
