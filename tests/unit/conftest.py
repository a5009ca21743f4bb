"""Make `ansible_collections.spin.platform` importable from a checkout."""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COLLECTIONS = os.path.join(ROOT, "playbooks", "collections")
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
