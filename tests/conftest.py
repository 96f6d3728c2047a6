"""Test-suite wide settings."""

import os

from hypothesis import settings

# CI runs the property tests with a fixed derandomised search, so a red run can
# be reproduced from the commit alone; local runs keep exploring at random.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
