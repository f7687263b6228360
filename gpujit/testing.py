"""gpujit.testing: assert_close and assert_consistent (filled below)."""
