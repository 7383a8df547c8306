"""A software prefetch for numba kernels (LLVM's llvm.prefetch).

The delivery loop does enough work per synapse that the CPU's out-of-order window cannot reach
the next synapse's target, so with neuron state beyond the caches every input waited for its own
cache miss. Prefetching the target a few synapses ahead overlaps those misses."""
from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, arr, i):
    """Hint the CPU to load the cache line of arr[i] (1-D) or arr[i, 0] (2-D) for reading.
    No effect on results; out-of-range i is harmless only if it stays inside the allocation,
    so callers pass valid indices."""
    if not (isinstance(arr, types.Array) and arr.ndim in (1, 2) and isinstance(i, types.Integer)):
        return None
    sig = types.void(arr, i)

    def codegen(context, builder, signature, args):
        aryty, ity = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = [context.cast(builder, args[1], ity, types.intp)]
        if aryty.ndim == 2:
            idx.append(context.get_constant(types.intp, 0))
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx, wraparound=False)
        i8p = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer(), i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        # read, high temporal locality, data cache
        builder.call(fn, [i8p, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen
