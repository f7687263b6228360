"""torch.fx.passes: ShapeProp (shape_prop) and the subgraph matcher (utils.matcher_utils)."""
