#!/usr/bin/env python
"""The example site's manage.py; run from this directory (make demo does)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # Import django_trackable from the checkout even without installing it.
    sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
