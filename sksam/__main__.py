"""``python -m sksam``: SAM vs gradient descent vs Ridge in a minute (see ``_demo``)."""

import sys

from ._demo import main

if __name__ == "__main__":
    sys.exit(main())
