"""Where the repository's own folders are, for tests at any depth."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
