"""What the tests share: model and data builders, oracles, harnesses, the browser."""

import os

# The repository's top directory.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
