"""`python -m deskmimic.app.cli VERB ...` (torchrun and the tests start the CLI this way)."""

import sys

from deskmimic.app.cli import main

sys.exit(main())
