"""mtreg benchmark scripts (not part of the installed package); see README.md."""
