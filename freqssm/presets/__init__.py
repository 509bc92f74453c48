"""Settings shared by several experiment files (``configs/``), importable without path edits."""
