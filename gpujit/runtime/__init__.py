"""The runtime: optimized graphs run as generated Python code (`Executable`), checked
against a node-by-node reference interpreter (`interpret`).

    from gpujit.runtime import Executable, interpret
    exe = Executable(graph, "forward")     # optimizes a copy of graph (gpujit.passes)
    out = exe(x, y)                        # a module object first if input 0 is a module
    exe.graph_for(x, y), exe.code_for(x, y), exe.source, exe.specializations, exe.stats
    interpret(graph, x, y)                 # the reference: eager ops, node by node
"""
from .interpreter import interpret, InterpreterError
from .profile import Profile, TensorSpec, ValueSpec, TupleSpec, ListSpec
from .executor import Executable, Specialization, dump_flags
from .codegen import CodeGenerator, CodeGenError

__all__ = ["Executable", "Specialization", "interpret", "InterpreterError", "Profile",
           "TensorSpec", "ValueSpec", "TupleSpec", "ListSpec", "CodeGenerator",
           "CodeGenError", "dump_flags"]
