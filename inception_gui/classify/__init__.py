"""The Classify tab: drop, open or paste images; see the top-5 of each, and why."""
