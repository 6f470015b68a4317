"""Broken and hostile inputs (issue 16). Every command that reads a user's file, given a
missing, empty, truncated, foreign or tampered one, exits non-zero with exactly one line on
stderr and no traceback, names what is wrong, and leaves every input byte-identical."""
