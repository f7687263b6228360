"""gpujit.fusers: graph -> fusion groups. The NNC-style partitioner that merges pointwise
registry ops (and chunks, as `prim::ConstantChunk`: chunks.py) into
`prim::TensorExprGroup` nodes, the guards and fallback paths, the
`set_fusion_strategy` budget and the `strict_fusion` check live here (the fuser issue).
It reads the IR and the op registry; it never imports the frontend.

    groups = fuse(graph)                          # in place; the group nodes
    print(fusion_report(graph))                   # fused / unfused + reason + source line
    budget = FusionBudget(get_fusion_strategy())  # one per compiled function
    group = FusedGroup(node, budget, "cuda")      # the runtime object of one group node
    outs = group.call(x, y, 2.5)                  # guards -> kernel, or the fallback
    with strict_fusion(): ...                     # unfused work raises StrictFusionError
"""
from .fusibility import GROUP_KIND, SUPPORTED_DTYPES, unfusible_reason
from .partition import fuse, MAX_GROUP_ARGS
from .report import (fusion_report, format_fusion_report, FusionReport, unfused_nodes,
                     unfused_reason)
from .strategy import set_fusion_strategy, get_fusion_strategy, FusionBudget
from .strict import (strict_fusion, strict_fusion_active, StrictFusionError,
                     check_strict_fusion)
from .group import FusedGroup, Specialization, FusionWarning

__all__ = ["fuse", "fusion_report", "format_fusion_report", "FusionReport",
           "unfused_nodes", "unfused_reason", "unfusible_reason", "set_fusion_strategy",
           "get_fusion_strategy", "FusionBudget", "FusedGroup", "Specialization",
           "FusionWarning", "strict_fusion", "strict_fusion_active", "StrictFusionError",
           "check_strict_fusion", "GROUP_KIND", "SUPPORTED_DTYPES", "MAX_GROUP_ARGS"]
