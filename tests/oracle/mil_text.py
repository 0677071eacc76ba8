"""Writes a pymil program (coremltools' `mb.program`) as MIL text in the dialect of
shared/docs/mil-text.md: compiler-style statements, every result with its declared type (the
type coremltools inferred), every argument `key = value`, sorted, and a `name` on every op.

Only what the type vectors need is covered: one function, tensors, scalars, states, tuples;
`constexpr_*` ops of iOS16/17 write their operands in the attribute block as Core ML does.
"""

import json

import numpy as np
from coremltools.converters.mil.mil import types
from coremltools.converters.mil.mil.types.symbolic import is_symbolic

def opset_name(function):
    """`ios17` for a function of coremltools' iOS17 opset."""
    return function.opset_version.name.lower()


def dtype_name(dtype):
    return types.builtin_to_string(dtype)


def type_text(sym_type, bare_scalars):
    """The MIL text spelling of a pymil type; symbolic dims are `?`."""
    if types.is_state(sym_type):
        return f"state<{type_text(sym_type.wrapped_type(), bare_scalars)}>"
    if types.is_tensor(sym_type):
        dims = ", ".join("?" if is_symbolic(d) else str(int(d)) for d in sym_type.get_shape())
        return f"tensor<{dtype_name(sym_type.get_primitive())}, [{dims}]>"
    if types.is_list(sym_type):
        length = "?" if sym_type.T[2] or sym_type.T[1] is None else str(sym_type.T[1])
        return f"list<{type_text(sym_type.T[0], bare_scalars)}, {length}>"
    if types.is_dict(sym_type):
        return f"dict<{type_text(sym_type.T[0], bare_scalars)}, {type_text(sym_type.T[1], bare_scalars)}>"
    name = dtype_name(sym_type)
    return name if bare_scalars else f"tensor<{name}, []>"


def number_text(x, dtype):
    """An element as MIL text writes it: ints in decimal, floats as C99 hex floats."""
    if dtype == types.bool:
        return "true" if bool(x) else "false"
    if dtype == types.str:
        return json.dumps(str(x))
    if types.is_int(dtype):
        return str(int(x))
    x = float(x)
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "-0x0p+0" if np.signbit(x) else "0x0p+0"
    mantissa, exponent = x.hex().split("p")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}p{exponent}"


def value_text(var, bare_scalars):
    """A const var's value as a typed literal: `tensor<int32, [2]>([1, 2])`, `fp16(0x1p+0)`."""
    sym_type = var.sym_type
    val = var.val
    if types.is_tensor(sym_type):
        dtype = sym_type.get_primitive()

        def nest(a):
            if a.ndim == 0:
                return number_text(a.item() if dtype != types.str else a, dtype)
            return "[" + ", ".join(nest(b) for b in a) + "]"

        return f"{type_text(sym_type, bare_scalars)}({nest(np.asarray(val))})"
    return f"{type_text(sym_type, bare_scalars)}({number_text(val, sym_type)})"


def string_text(s, bare_scalars):
    return f"string({json.dumps(s)})" if bare_scalars else f"tensor<string, []>({json.dumps(s)})"


class Printed:
    """The text of a program and, for each op statement, its line, op type and result types."""

    def __init__(self, text, statements):
        self.text = text
        self.statements = statements


def print_program(prog, blobs=None):
    """Prints the `main` function of `prog` (see the module documentation). `blobs` maps the
    names of consts whose values live in a weight file to their `(path, offset)`."""
    blobs = blobs or {}
    function = prog.functions["main"]
    opset = opset_name(function)
    bare = opset == "ios18"
    lines = ["program(1.3)" if bare else "program(1.0)", "{"]
    params = ", ".join(f"{type_text(v.sym_type, bare)} {name}" for name, v in function.inputs.items())
    lines.append(f"    func main<{opset}>({params}) {{")
    statements = []
    renamed = {}
    for op in function.operations:
        name = string_text(op.name, bare)
        if op.op_type == "const":
            (out,) = op.outputs
            ty = type_text(out.sym_type, bare)
            if out.name in blobs:
                path, offset = blobs[out.name]
                val = f"{ty}(BLOBFILE(path = {string_text(path, bare)}, offset = uint64({offset})))"
                lines.append(f"            {ty} {out.name} = const()[name = {name}, val = {val}];")
                continue
            lines.append(
                f"            {type_text(out.sym_type, bare)} {out.name} = const()"
                f"[name = {name}, val = {value_text(out, bare)}];"
            )
            continue
        kind = op.op_type
        results = list(op.outputs)
        if kind == "coreml_update_state":
            kind, results = "write_state", []
            renamed[op.outputs[0].name] = op.inputs["value"].name
        args, attrs = [], [f"name = {name}"]
        inline = kind.startswith("constexpr_") and opset in ("ios16", "ios17")
        for key, v in op.inputs.items():
            key = {"state": "input", "value": "data"}.get(key, key) if kind == "write_state" else key
            if isinstance(v, (list, tuple)):
                args.append(f"{key} = ({', '.join(renamed.get(x.name, x.name) for x in v)})")
            elif inline:
                attrs.append(f"{key} = {value_text(v, bare)}")
            else:
                args.append(f"{key} = {renamed.get(v.name, v.name)}")
        outs = ", ".join(f"{type_text(o.sym_type, bare)} {o.name}" for o in results)
        lhs = f"{outs} = " if outs else ""
        statements.append((len(lines) + 1, kind, [type_text(o.sym_type, bare) for o in results]))
        lines.append(f"            {lhs}{kind}({', '.join(sorted(args))})[{', '.join(sorted(attrs))}];")
    outputs = ", ".join(renamed.get(v.name, v.name) for v in function.outputs)
    lines.append(f"        }} -> ({outputs});")
    lines.append("}")
    return Printed("\n".join(lines) + "\n", statements)
