"""Unit-test settings shared by every file under tests/unit."""
from __future__ import annotations

from hypothesis import settings

# No wall-clock limit on a generated example: a test must not fail because the machine is busy
# (hypothesis's default deadline is 200 ms per example, which a loaded 2-core CI machine exceeds).
settings.register_profile("cscs", deadline=None)
settings.load_profile("cscs")
