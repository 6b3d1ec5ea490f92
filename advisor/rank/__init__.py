"""Ranking: pure scoring of findings (``score``), the per-file outlines it
reads (``outline``), and reachability from entry points (``callgraph``)."""
