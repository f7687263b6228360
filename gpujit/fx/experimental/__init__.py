"""torch.fx.experimental: optimization (fuse, remove_dropout, extract_subgraph)."""
