"""torch._C's spellings of the graph API that Python users call on `fn.graph`
(g.insertConstant, g.insert_point_guard, g.insertGraph, g.permuteInputs, n.matches,
v.toIValue), as mixins of Graph / Node / Value: each one is the gpujit method it names."""
from __future__ import annotations


class GraphCNames:
    __slots__ = ()

    def insertConstant(self, value):
        """A prim::Constant of value at the insertion point; its Value."""
        return self.insert_constant(value)

    def insert_point_guard(self, node):
        """`with g.insert_point_guard(n):` new nodes go before n (torch._C's
        WithInsertPoint)."""
        return self.inserting_before(node)

    def insertGraph(self, callee, inputs):
        """callee's body copied at the insertion point, its inputs bound to `inputs`; the
        Values standing for its outputs."""
        return self.insert_graph(callee, list(inputs))

    def permuteInputs(self, new_order):
        """Reorder the graph's inputs: input i becomes the old input new_order[i] (names,
        types and uses travel with them)."""
        old = list(self.inputs)
        order = [int(i) for i in new_order]
        if sorted(order) != list(range(len(old))):
            raise RuntimeError(f"permuteInputs: {order} is not a permutation of the "
                               f"{len(old)} inputs")
        self.inputs[:] = [old[i] for i in order]
        for k, v in enumerate(self.inputs):
            v.offset = k
        if self.broadcast:
            where = {old_i: new_i for new_i, old_i in enumerate(order)}
            self.broadcast = {where[i]: n for i, n in self.broadcast.items()}


class NodeCNames:
    __slots__ = ()

    def matches(self, schema) -> bool:
        """Whether this node's operator has the given schema (text or Schema): the same
        operator name and argument / return types; the overload name need not be
        written (torch._C's Node::matches)."""
        op = self.op
        if op is None:
            return False
        from ..ops.schema import parse_schema
        want = parse_schema(schema) if isinstance(schema, str) else schema
        have = op.schema if not isinstance(op.schema, str) else parse_schema(op.schema)
        if want.name != have.name or len(want.arguments) != len(have.arguments):
            return False
        if [str(r.type) for r in want.returns] != [str(r.type) for r in have.returns]:
            return False
        for i, (w, h) in enumerate(zip(want.arguments, have.arguments)):
            if str(w.type) == str(h.type):
                continue
            # gpujit declares one overload of a pointwise op, whose Tensor operands also
            # take numbers: given a number there, it is TorchScript's `.Scalar` overload
            if str(w.type) == "Scalar" and str(h.type) == "Tensor" and op.is_pointwise \
                    and h.name in op.operands and i < len(self.inputs) and \
                    type(self.inputs[i].type).__name__ in ("IntType", "FloatType",
                                                           "BoolType", "NumberType"):
                continue
            return False
        return True


class ValueCNames:
    __slots__ = ()

    def toIValue(self):
        """The value of a constant (a prim::Constant's output), else None."""
        n = self.node
        if getattr(n, "kind", None) != "prim::Constant":
            return None
        return n.attrs.get("value")
