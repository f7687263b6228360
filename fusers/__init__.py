"""gpujit.fusers: graph -> fusion groups. The NNC-style partitioner that merges pointwise
registry ops into `prim::TensorExprGroup` nodes, the guards and fallback paths, the
`set_fusion_strategy` budget and the `strict_fusion` check live here (the fuser issue).
It reads the IR and the op registry; it never imports the frontend."""
