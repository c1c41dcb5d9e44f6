"""Evaluate every fn body and data transform of the task files with real PyTorch on fixed inputs.

Writes one JSON file per corpus: for each task, its sizes and input_data; for each snippet, the
element inputs (and state) given to it and the tensors it returned. StepForge's tests run the same
snippets in its own engine on the same inputs and compare at torch.testing.assert_close's float32
tolerances. Snippet texts are not copied: cases name the task file and the fn or output.
"""
import argparse
import ast
import hashlib
import json
import os
import re
import zlib

import torch
import yaml

DEFAULT_SIZES = {"M": 5, "N": 7, "K": 9, "D": 16}


def parse_dtype(text):
    """Innermost-first element dims of each component, as in step-semantics.md."""
    if isinstance(text, list):
        return [c for item in text for c in parse_dtype(item)]
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return parse_dtype([p.strip() for p in split_top(text[1:-1])])
    return [element_dims(text)]


def split_top(text):
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def element_dims(text):
    text = text.strip()
    if text in ("fp32", "float", "float32"):
        return []
    m = re.fullmatch(r"Multihot\((.*)\)", text)
    if m:
        _, width = split_top(m.group(1))
        return [width.strip()]
    m = re.fullmatch(r"Buffer\((.*)\)", text)
    if m:
        inner, shape = split_top(m.group(1))
        dims = [d.strip() for d in shape.strip()[1:-1].split(",") if d.strip()]
        return element_dims(inner) + dims
    raise ValueError("unknown dtype " + text)


def is_multihot(text):
    return "Multihot" in (text if isinstance(text, str) else " ".join(text))


def size(d, sizes):
    d = str(d).strip()
    value = 1
    for factor in d.split("*"):
        factor = factor.strip()
        value *= int(factor) if factor.isdigit() else sizes[factor]
    return value


def torch_shape(dims_innermost_first, sizes):
    return [size(d, sizes) for d in reversed(dims_innermost_first)]


def namespace(task):
    sizes = dict(DEFAULT_SIZES)
    sizes.update(task.get("sizes") or {})
    ns = {"torch": torch}
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        ns[letter] = letter
    ctx = {}
    for sym, value in sizes.items():
        ns[sym] = sym
        ns[sym + "_value"] = value
        ctx[sym] = value
    ns["ctx"] = ctx
    if task.get("global"):
        exec(task["global"], ns)
    sizes.update(ctx)
    return ns, sizes


def generate(spec, sizes, gen):
    dtype = spec["dtype"]
    comps = parse_dtype(dtype)
    if len(comps) != 1:
        raise ValueError("tuple inputs are not generated")
    shape = torch_shape(comps[0] + list(spec["dims"]), sizes)
    if is_multihot(dtype):
        width = shape[-1]
        flat = torch.zeros(int(torch.tensor(shape[:-1]).prod()) if shape[:-1] else 1, width)
        lo, hi = spec.get("min", 1), spec.get("max", 1)
        for row in range(flat.shape[0]):
            k = int(torch.randint(lo, hi + 1, (1,), generator=gen))
            flat[row, torch.randperm(width, generator=gen)[:k]] = 1.0
        return flat.reshape(shape)
    kind = spec.get("data_gen")
    if kind == "torch.rand":
        return torch.rand(shape, generator=gen)
    if kind == "torch.randn":
        return torch.randn(shape, generator=gen)
    if kind == "torch.ones":
        return torch.ones(shape)
    if kind == "torch.zeros":
        return torch.zeros(shape)
    if kind == "binary":
        return torch.randint(0, 2, shape, generator=gen).float()
    raise ValueError("unknown data_gen " + str(kind))


def encode(t):
    if not isinstance(t, torch.Tensor):
        t = torch.tensor(t)
    kind = "bool" if t.dtype == torch.bool else ("int" if not t.dtype.is_floating_point else "float")
    data = [v if v == v and abs(v) != float("inf") else str(v) for v in t.float().reshape(-1).tolist()]
    return {"shape": list(t.shape), "kind": kind, "data": data}


def run_snippet(source, ns):
    """The value of a snippet: its return, or its last expression or assignment."""
    tree = ast.parse(source)
    body = tree.body
    if any(isinstance(s, ast.Return) for s in body):
        wrapped = "def __snippet():\n" + "".join("    " + line + "\n" for line in source.splitlines())
        exec(wrapped, ns)
        return ns["__snippet"]()
    exec(compile(ast.Module(body=body[:-1], type_ignores=[]), "<snippet>", "exec"), ns)
    last = body[-1]
    if isinstance(last, ast.Expr):
        return eval(compile(ast.Expression(last.value), "<snippet>", "eval"), ns)
    value = eval(compile(ast.Expression(last.value), "<snippet>", "eval"), ns)
    exec(compile(ast.Module(body=[last], type_ignores=[]), "<snippet>", "exec"), ns)
    return value


def fingerprint(source):
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def as_list(value):
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return [encode(value)]


def task_cases(path, rel, task):
    seed = zlib.crc32(rel.encode())
    gen = torch.Generator().manual_seed(seed)
    ns, sizes = namespace(task)
    data = {}
    for spec in (task.get("inputs") or []) + (task.get("parameters") or []):
        data[spec["name"]] = generate(spec, sizes, gen)
    cases = []
    for fn in task["fns"]:
        in_comps = parse_dtype(fn["input_dtype"])
        out_comps = parse_dtype(fn["output_dtype"])
        multihot_in = [is_multihot(c) for c in (fn["input_dtype"] if isinstance(fn["input_dtype"], list) else [fn["input_dtype"]])]
        for variant in ("randn", "rand", "ones"):
            def sample(dims, multihot):
                shape = torch_shape(dims, sizes)
                if multihot:
                    return torch.randint(0, 2, shape, generator=gen).float()
                if variant == "randn":
                    return torch.randn(shape, generator=gen)
                if variant == "rand":
                    return torch.rand(shape, generator=gen)
                return torch.ones(shape)
            inputs = [sample(d, multihot_in[i] if i < len(multihot_in) else False) for i, d in enumerate(in_comps)]
            state = [torch.randn(torch_shape(d, sizes), generator=gen) for d in out_comps] if "init" in fn else None
            scope = dict(ns)
            scope["input_data"] = {k: v.clone() for k, v in data.items()}
            scope["input"] = [t.clone() for t in inputs]
            if state is not None:
                scope["state"] = [t.clone() for t in state]
            result = run_snippet(fn["apply"], scope)
            cases.append({"kind": "fn", "name": fn["func_name"], "variant": variant, "source_sha256": fingerprint(fn["apply"]),
                          "input": [encode(t) for t in inputs],
                          "state": None if state is None else [encode(t) for t in state],
                          "output": as_list(result)})
    scope = dict(ns)
    scope["input_data"] = {k: v.clone() for k, v in data.items()}
    outputs = []
    for out in task["outputs"]:
        transform = out["data_transform"]
        source = "\n".join(transform) if isinstance(transform, list) else transform
        outputs.append({"name": out["name"], "source_sha256": fingerprint(source), "value": as_list(run_snippet(source, scope))})
    cases.append({"kind": "transforms", "name": "outputs", "variant": "data", "outputs": outputs})
    return {"task": rel, "sizes": sizes, "input_data": {k: encode(v) for k, v in data.items()}, "cases": cases}


# Expressions over a (4, 5), b (5,), c (4, 5) random tensors and i (4, 5) small integers: functions and corners
# of torch semantics that the task files do not reach, so that unseen tasks meet a tested engine.
EXTRAS = [
    "torch.where(a > 0, a, b)", "torch.clamp(a, -0.5, 0.5)", "a.clamp(min=0.1)", "torch.rsqrt(c + 1)", "torch.square(a)",
    "torch.argmax(a, dim=1)", "a.argmax(dim=0)", "torch.max(a, dim=1).values", "torch.max(a, 0).indices", "a.max(dim=-1, keepdim=True).values",
    "torch.topk(a, 2, dim=0).values", "torch.topk(a, 3).indices", "torch.add(a, b)", "torch.mul(a, 2)", "torch.div(a, c + 1)",
    "a.sum()", "a.mean()", "a.var()", "a.var(dim=0)", "torch.softmax(a, dim=0)", "torch.nn.functional.softmax(a, dim=-1)",
    "a.transpose(0, 1)", "a.permute(1, 0)", "a.reshape(5, 4)", "a.view(-1)", "a.flatten()", "a[1:3, ::2]", "a[-1]", "a[:, -2:]",
    "a[None, :, 1]", "a.unsqueeze(0).expand(3, 4, 5)", "a.repeat(2, 1)", "b.repeat(3)", "torch.cat([a, c], dim=0)", "torch.stack([a, c])",
    "a.chunk(2, dim=1)[1]", "i // 2", "i % 3", "i / 2", "i * a", "-i", "(i > 2).float()", "(a > 0) == (c > 0.5)",
    "torch.tensor([[1, 2], [3, 4]]) * 2", "torch.arange(5) * 0.5", "torch.arange(1, 10, 3)", "torch.zeros(2, 3)", "torch.ones((3,), dtype=torch.float)",
    "torch.nn.GELU()(a)", "torch.nn.SiLU()(a)", "torch.nn.Sigmoid()(a)", "torch.tanh(a)", "torch.relu(a)", "torch.exp(a).log()",
    "torch.einsum('ij,j->i', a, b)", "torch.einsum('ij,kj->ik', a, c)", "torch.einsum('ij->ji', a)", "torch.einsum('ij,ij->', a, c)",
    "a @ b", "b @ a.T", "a @ c.T", "torch.matmul(a.unsqueeze(0), c.T)", "a.pow(3)", "2 ** a", "a ** 0.5", "abs(a)", "torch.abs(a)",
    "torch.zeros_like(a).scatter(1, torch.topk(a, 2, dim=1).indices, 1.0)", "a.sigmoid()", "torch.sin(a) + torch.cos(b)",
    "torch.ops.aten.native_layer_norm.default(a, [5], None, None, 1e-5)[0]", "torch.ops.aten.native_layer_norm.default(a, [5], None, None, 1e-5)[2]",
]


def rms_norm_formula(x, normalized_shape, weight=None, eps=None):
    """torch.nn.functional.rms_norm (torch 2.4) by its documented formula: Debian's torch 1.13 lacks it."""
    eps = torch.finfo(x.dtype).eps if eps is None else eps
    dims = tuple(range(-len(normalized_shape), 0))
    y = x * torch.rsqrt(x.pow(2).mean(dims, keepdim=True) + eps)
    return y if weight is None else y * weight


# The PyTorch that operator definitions use, beyond the task files: each function of StepForge's catalogue, with
# negative dims, keepdim, ties (t, s), NaN and infinities (n), bool masks (m) and integer inputs. A case is an
# expression or a few lines (the last one gives the value); a pair (case, oracle) computes the golden with the
# oracle where torch 1.13 lacks the function. Inputs besides a, b, c and i are made below.
CATALOGUE = [
    # reductions
    "torch.amax(a, dim=1)", "a.amax(dim=(0, 1))", "torch.amax(a, -1, keepdim=True)", "torch.amax(n, dim=1)", "n.amin(dim=0)",
    "torch.amin(a, dim=(-1,))", "i.amax(0)", "torch.max(n)", "a.min()", "torch.min(a, dim=1).values", "torch.min(t, 1).indices",
    "torch.min(a, c)", "torch.max(n, dim=1).indices", "torch.argmin(a, dim=1)", "a.argmin()", "torch.argmin(t, dim=1, keepdim=True)",
    "torch.argmin(n, dim=0)", "n.argmax(dim=1)", "torch.argmax(t, dim=0)",
    "torch.prod(c, dim=1)", "c.prod()", "torch.prod(i, 0, keepdim=True)", "torch.prod(m, 1)", "torch.prod(a, -1)",
    "torch.cumsum(a, dim=1)", "a.cumsum(-2)", "torch.cumsum(i, 0)", "torch.cumsum(m, dim=1)", "torch.cumprod(c, 1)", "i.cumprod(dim=1)",
    "torch.cumsum(n, 1)", "torch.cumsum(a, 0, dtype=torch.float64)",
    "torch.logsumexp(a, dim=1)", "a.logsumexp(0, keepdim=True)", "torch.logsumexp(n, 1)", "torch.logsumexp(a, (0, 1))", "torch.logsumexp(i, 1)",
    "torch.logsumexp(torch.tensor([[float('-inf'), float('-inf')], [float('inf'), 1.0]]), 1)",
    "torch.std(a)", "a.std(dim=1)", "torch.std(a, 0, False)", "torch.std(a, dim=1, correction=0)", "torch.var(a, dim=(0, 1), keepdim=True)",
    "a.var(1, unbiased=False)", "torch.var(a, dim=0, correction=2)", "torch.var(a, True)", "torch.std(a, dim=-1, keepdim=True)",
    "torch.std_mean(a, dim=1)[0]", "torch.var_mean(a, 1)[1]",
    "torch.norm(a)", "a.norm(dim=1)", "torch.norm(a, p=1, dim=0)", "torch.norm(a, p=3, dim=1, keepdim=True)", "torch.norm(a, float('inf'), dim=1)",
    "torch.norm(a, p=-float('inf'), dim=0)", "torch.norm(a, p=0)", "a.norm(p='fro')", "torch.norm(a, dim=(0, 1))", "torch.norm(n, dim=1)",
    "torch.any(m)", "m.any(dim=1)", "torch.all(m, 0, keepdim=True)", "torch.any(a > 1, dim=0)", "(c > 0.1).all(dim=-1)", "torch.all(n)", "torch.any(i, 1)",
    "torch.count_nonzero(i)", "torch.count_nonzero(i, dim=1)", "i.count_nonzero(dim=(0, 1))", "torch.count_nonzero(n, 0)",
    "torch.sum(a, dim=(0, 1))", "torch.sum(m)", "torch.sum(a, dim=-1, keepdim=True)", "torch.mean(a, dim=(0, 1))", "torch.mean(a, (-1,), True)",
    "torch.sum(i, dtype=torch.float32)", "torch.mean(i, 1, dtype=torch.float32)",
    # sorting, with torch's order among ties
    "torch.sort(a, dim=1).values", "torch.sort(a).indices", "torch.sort(t, dim=1).indices", "torch.sort(t, dim=1, descending=True).indices",
    "torch.sort(t, dim=0, stable=True).indices", "torch.sort(t, dim=1, descending=True, stable=True).indices", "torch.sort(s, dim=1).indices",
    "torch.sort(s, dim=1, descending=True).indices", "torch.sort(s, dim=1, stable=True).indices", "torch.sort(n, dim=1).values",
    "torch.sort(n, 1).indices", "torch.sort(n, dim=1, descending=True).indices", "a.sort(dim=0, descending=True).values",
    "torch.sort(i, dim=-1).values", "torch.sort(i, dim=-1).indices", "torch.sort(torch.ones(40)).indices",
    "torch.argsort(a, dim=1)", "torch.argsort(t, dim=1)", "t.argsort(dim=0, descending=True)", "torch.argsort(s, dim=1, stable=True)",
    "torch.argsort(s, dim=-1)", "torch.argsort(s, dim=-1, descending=True)",
    "torch.median(a)", "torch.median(t)", "torch.median(a, dim=1).values", "torch.median(t, dim=1).indices", "torch.median(s, 1).indices",
    "torch.median(n, dim=1).indices", "torch.median(n, 1).values", "a.median(0, keepdim=True).values", "torch.median(n)", "torch.median(i)",
    "torch.median(i, 0).indices",
    "torch.kthvalue(a, 2, dim=1).values", "torch.kthvalue(t, 3, dim=1).indices", "torch.kthvalue(s, 10, 1).indices",
    "torch.kthvalue(s, 35, dim=1).indices", "torch.kthvalue(s, 21, dim=1).indices", "torch.kthvalue(n, 2, dim=1).values",
    "torch.kthvalue(n, 4, dim=1).indices", "a.kthvalue(1, 0, keepdim=True).indices", "torch.kthvalue(t, 1).indices",
    "torch.kthvalue(torch.ones(20), 5).indices", "torch.kthvalue(torch.ones(20), 13).indices",
    # elementwise
    "torch.sign(a)", "torch.sign(n)", "i.sign()", "torch.sign(m)", "torch.exp2(a)", "torch.exp2(i)", "torch.expm1(a * 1e-3)", "a.expm1()",
    "torch.log2(c)", "torch.log10(c)", "torch.log1p(c * 1e-4)", "a.log1p()", "torch.log2(i)", "torch.tan(a)", "torch.erfc(a * 3)", "torch.erf(a)",
    "c.reciprocal()", "torch.reciprocal(i)", "torch.sinh(a)", "torch.cosh(a)", "torch.asin(c)", "torch.acos(c)", "torch.atan(a)",
    "torch.floor(a * 3)", "torch.ceil(a * 3)", "torch.round(a * 3)", "torch.round(h)", "torch.round(h, decimals=1)",
    "torch.round(a * 100, decimals=-1)", "torch.trunc(a * 3)", "torch.floor(i)", "torch.round(i)", "a.floor()", "torch.fix(h)",
    "torch.fmod(a * 5, 1.5)", "torch.fmod(a, -0.7)", "torch.fmod(i - 3, 2)", "torch.fmod(a * 5, c + 0.5)", "torch.remainder(a * 5, 1.5)",
    "torch.remainder(a * 5, -1.5)", "torch.remainder(i - 3, 4)", "torch.remainder(i - 3, -4)", "a.remainder(c + 0.5)", "(a * 5) % -1.5",
    "torch.minimum(a, c)", "torch.maximum(a, b)", "torch.maximum(n, torch.zeros(4))", "torch.minimum(n, torch.zeros(4))", "torch.maximum(m, a > 0)",
    "torch.lerp(a, c, 0.3)", "torch.lerp(a, c, 0.75)", "torch.lerp(a, b, c)", "a.lerp(c, -0.2)",
    "torch.addcmul(a, b, c)", "torch.addcmul(a, c, c, value=0.5)", "torch.addcmul(i, i, i, value=2)", "torch.addcdiv(a, b, c + 1, value=-2)",
    "torch.masked_fill(a, m, 0.5)", "a.masked_fill(m, float('-inf'))", "a.masked_fill(b > 0, -1.0)", "i.masked_fill(m, 7)",
    "torch.masked_fill(a, m, torch.tensor(2.5))",
    "torch.nan_to_num(n)", "torch.nan_to_num(n, nan=0.5)", "torch.nan_to_num(n, nan=1.0, posinf=2.0, neginf=-3.0)", "n.nan_to_num(posinf=9.0)",
    "torch.isnan(n)", "torch.isinf(n)", "torch.isfinite(n)", "n.isnan()", "torch.isposinf(n)", "torch.isneginf(n)", "torch.isfinite(i)",
    "torch.logical_and(a > 0, c > 0.5)", "torch.logical_or(m, a > 1)", "torch.logical_not(m)", "torch.logical_xor(i, m)", "m.logical_not()",
    "torch.logical_and(a, i)", "torch.logical_not(n)",
    "torch.clip(a, -0.5, 0.5)", "a.clip(max=0.2)", "torch.clamp(i, 1, 4)", "torch.clamp(i, min=0.5)", "torch.clamp(a, min=c - 0.5, max=c)",
    "torch.clamp(n, -1, 1)", "torch.clamp(a, b)",
    "torch.add(a, b, alpha=2)", "torch.sub(a, c, alpha=0.5)", "a.sub(1)", "a.mul(c)", "torch.div(a, c + 1, rounding_mode='floor')",
    "torch.div(i, 2, rounding_mode='trunc')", "torch.div(a * 5, 2, rounding_mode='trunc')", "torch.eq(i, 3)", "a.gt(c)", "torch.ne(i, 2)",
    "a.le(0)", "torch.floor_divide(i, 3)", "torch.where(m, a, 0.0)", "a.where(m, c)",
    "m & (a > 0)", "m | (c > 0.5)", "~m", "(a > 0) ^ m", "i & 3", "i | 8", "~i", "torch.bitwise_and(i, 6)", "torch.bitwise_or(m, a < 0)",
    "torch.bitwise_xor(i, i + 1)", "torch.bitwise_not(m)", "i.bitwise_and(5)",
    # activations, functional and modules
    "F.relu(n)", "F.relu6(a * 4)", "F.leaky_relu(a)", "F.leaky_relu(a, 0.2)", "F.leaky_relu(a, negative_slope=0.1)", "F.elu(a)", "F.elu(a, alpha=0.5)",
    "F.selu(a)", "torch.selu(a)", "F.celu(a, alpha=2.0)", "torch.celu(a)", "F.gelu(a)", "F.gelu(a, approximate='tanh')", "F.silu(a)",
    "F.mish(a)", "F.softplus(a * 10)", "F.softplus(a, beta=2.0, threshold=1.0)", "F.softsign(a)", "F.hardtanh(a)", "F.hardtanh(a, -0.5, 0.25)",
    "F.hardsigmoid(a * 4)", "F.hardswish(a * 4)", "F.hardtanh(n)", "F.log_softmax(a, dim=1)", "torch.log_softmax(a, 0)", "a.log_softmax(-1)",
    "F.log_softmax(n, dim=1)", "F.softmax(a, dim=0)", "F.sigmoid(a)", "F.tanh(a)",
    "F.layer_norm(a, (5,))", "F.layer_norm(a, [5], weight=b, bias=u)", "F.layer_norm(x3, (3, 4), eps=1e-3)", "torch.layer_norm(a, [5], b)",
    ("F.rms_norm(a, (5,))", "rms_norm_formula(a, (5,))"), ("F.rms_norm(a, [5], weight=b, eps=1e-6)", "rms_norm_formula(a, [5], weight=b, eps=1e-6)"),
    ("F.rms_norm(x3, (3, 4))", "rms_norm_formula(x3, (3, 4))"), ("torch.rms_norm(a, [5])", "rms_norm_formula(a, [5])"),
    ("torch.nn.RMSNorm(5)(a)", "rms_norm_formula(a, (5,))"), ("torch.nn.RMSNorm([3, 4], eps=1e-4)(x3)", "rms_norm_formula(x3, [3, 4], eps=1e-4)"),
    "F.normalize(a)", "F.normalize(a, dim=0)", "F.normalize(a, p=1.0, dim=1)", "F.normalize(torch.zeros(2, 3))",
    "F.linear(a, w)", "F.linear(a, w, z)", "F.linear(b, w, bias=z)", "F.linear(x3, torch.ones(4))",
    "F.one_hot(k)", "F.one_hot(k, num_classes=6)", "F.one_hot(g, 5)",
    "F.dropout(a, 0.5, training=False)", "F.dropout(a, p=0.0)", "torch.dropout(a, 0.3, False)",
    "torch.nn.ReLU()(a)", "torch.nn.ReLU6()(a * 4)", "torch.nn.LeakyReLU(0.2)(a)", "torch.nn.ELU(alpha=0.3)(a)", "torch.nn.SELU()(a)",
    "torch.nn.CELU(1.5)(a)", "torch.nn.GELU(approximate='tanh')(a)", "torch.nn.Mish()(a)",
    "torch.nn.Softplus(beta=0.5)(a)", "torch.nn.Softsign()(a)", "torch.nn.Hardtanh(-2.0, 2.0)(a * 3)", "torch.nn.Hardsigmoid()(a * 4)",
    "torch.nn.Hardswish()(a * 4)", "torch.nn.LogSoftmax(dim=1)(a)", "torch.nn.Softmax(dim=0)(a)", "torch.nn.Tanh()(a)",
    "torch.nn.LayerNorm(5)(a)", "torch.nn.LayerNorm((3, 4), eps=1e-3)(x3)", "torch.nn.Dropout(0.5).eval()(a)", "torch.nn.Identity()(a)",
    "torch.nn.Flatten()(x3)", "torch.nn.Dropout(p=0.0)(a)", "torch.nn.ReLU(inplace=True)(a.clone())",
    # shape and indexing
    "a.view(5, 4)", "a.view(-1, 2)", "x3.view(6, -1)", "a.view((2, 10))", "torch.reshape(x3, (4, -1))",
    "torch.permute(x3, (2, 0, 1))", "x3.permute(1, -1, 0)", "x3.permute([2, 1, 0])",
    "torch.transpose(x3, 0, 2)", "x3.transpose(-1, -2)", "torch.swapaxes(x3, 0, 1)", "a.t()", "torch.t(b)", "x3.mT",
    "torch.unflatten(a, 1, (5, 1))", "a.unflatten(1, (1, 5))", "x3.unflatten(-1, (2, -1))",
    "torch.flip(a, (0,))", "a.flip(0, 1)", "torch.flip(x3, [-1, 0])",
    "torch.roll(a, 2)", "torch.roll(a, 1, 0)", "torch.roll(a, shifts=(1, -2), dims=(0, 1))", "a.roll(-7, 1)",
    "torch.narrow(a, 1, 1, 3)", "a.narrow(0, -2, 2)", "torch.narrow(x3, -1, 0, 1)",
    "torch.select(a, 1, 2)", "a.select(0, -1)", "x3.select(2, 0)",
    "torch.gather(a, 1, g)", "a.gather(0, torch.tensor([[0, 1, 2, 3, 0]]))", "torch.gather(x3, 2, torch.zeros(2, 3, 2, dtype=torch.long))",
    "torch.index_select(a, 1, torch.tensor([4, 0, 0]))", "a.index_select(0, torch.tensor([3, 1]))", "torch.index_select(x3, -1, torch.tensor(2))",
    "torch.take_along_dim(a, g, dim=1)", "torch.take_along_dim(a, torch.argsort(a, dim=1), 1)", "torch.take_along_dim(a, torch.tensor([0, 19, 7]))",
    "a.take_along_dim(torch.tensor([[1], [0], [2], [4]]), dim=1)", "torch.take_along_dim(a, torch.tensor([[2, 0]]), dim=1)",
    "torch.scatter_add(torch.zeros(4, 5), 1, g, c[:, :3])", "torch.zeros(3, 5).scatter_add(0, torch.tensor([[0, 1, 2, 0, 0], [2, 2, 1, 0, 1]]), a[:2])",
    "torch.scatter(a, 1, g, c[:, :3])", "torch.zeros(4, 5).scatter(1, g, 2.0)",
    "x = a.clone()\nx.scatter_add_(1, g, c[:, :3])\nx", "x = torch.zeros(4, 5)\nx.masked_fill_(m, 1.0)\nx", "x = a.clone()\nx.clamp_(min=0)\nx",
    "x = a.clone()\nx.relu_()\nx", "x = a.clone()\ny = F.relu(x, inplace=True)\nx", "x = i.clone()\nx.add_(2)\nx",
    "x = a.clone()\nx.mul_(c).add_(1)\nx", "x = torch.zeros(2, 3)\nx.fill_(4.5)\nx", "x = a.clone()\nx.zero_()\nx", "x = a.clone()\nx.copy_(b)\nx",
    "x = i.clone()\nx.copy_(a * 3)\nx", "x = a.clone()\nx.tril_()\nx", "x = a.clone()\nx.lerp_(c, 0.5)\nx",
    "torch.tril(a)", "a.triu(1)", "torch.tril(x3, diagonal=-1)", "torch.triu(a, -2)",
    "torch.split(a, 2)[1]", "a.split(2, dim=1)[2]", "torch.split(a, [1, 3], dim=0)[1]", "len(torch.split(a, 3, 1))", "torch.unbind(a, 1)[3]",
    "torch.tile(a, (2,))", "b.tile(2, 2)", "torch.tile(x3, (1, 2, 1))",
    "torch.repeat_interleave(b, 2)", "a.repeat_interleave(2, dim=0)", "torch.repeat_interleave(a, torch.tensor([1, 0, 2, 1]), dim=0)",
    "torch.repeat_interleave(torch.tensor([2, 0, 3]))", "a.repeat_interleave(3)",
    "b.expand_as(a)", "torch.ones(4, 1).expand_as(a) * a", "a[:, :1].expand(4, 3)", "a.view_as(a.T)",
    "torch.squeeze(a.unsqueeze(1), 1)", "x3[:, :1].squeeze()", "torch.flatten(x3, 1)", "x3.flatten(0, 1)", "torch.movedim(x3, 0, -1)",
    "torch.cat([a, c], dim=-1)", "torch.stack([a, c], dim=2)", "torch.concat((b, u))",
    # products
    "torch.mm(a, a.T)", "a.mm(w.T)", "torch.bmm(x3, y3)", "x3.bmm(y3)", "torch.mv(a, b)", "a.T.mv(v)", "torch.outer(b, v)", "b.outer(u)",
    "torch.ger(v, z)", "torch.dot(b, u)", "b.dot(b)", "torch.dot(torch.tensor([1, 2]), torch.tensor([3, 4]))", "torch.baddbmm(e3, x3, y3)",
    "torch.baddbmm(e3, x3, y3, beta=0.5, alpha=2.0)", "e3.baddbmm(x3, y3, beta=0)", "torch.addmm(z, a, w.T)", "torch.addmm(z, a, w.T, beta=2, alpha=0.5)",
    "torch.matmul(x3, y3)", "torch.matmul(b, w.T)",
    # creation and casts
    "torch.full((2, 3), 1.5)", "torch.full((2,), 3)", "torch.full([3], True)", "torch.full((2, 2), 7, dtype=torch.float32)",
    "torch.full_like(a, 2.5)", "torch.full_like(i, 4)", "torch.full_like(a, 3, dtype=torch.int64)",
    "torch.linspace(0, 1, 7)", "torch.linspace(-3.3, 10.1, 11)", "torch.linspace(2, 2, 1)", "torch.linspace(0, 1, steps=5)", "torch.linspace(5, -5, 6)",
    "torch.eye(3)", "torch.eye(2, 4)", "torch.eye(3, dtype=torch.int64)", "torch.eye(3, 2) * 2",
    "torch.empty_like(a).fill_(2.0)", "torch.empty(2, 3).fill_(1.0)", "torch.zeros(2, 3, dtype=torch.bool)", "torch.ones(3, dtype=torch.int64)",
    "torch.zeros_like(a, dtype=torch.int64)",
    "a.to(torch.float32)", "i.to(torch.float32) / 2", "a.to(torch.int64)", "a.to(dtype=torch.float64)", "a.double()", "(a * 3).long()",
    "(a * 3).int()", "a.bool()", "i.bool()", "m.int()", "m.float()", "a.half().float()", "(a * 1000).half().float()", "a.bfloat16().float()",
    "(a * 1000).bfloat16().float()", "a.to(torch.float16).float()", "a.to(torch.bfloat16).to(torch.float32)",
    "torch.tensor([65519.0, 65520.0, 1e-8, 3.14159]).half().float()", "a.type_as(i)", "a.to(i)", "a.to('cpu')", "i.float().mean()",
    "a.size(1)", "a.numel()", "torch.numel(x3)", "x3.dim()", "a.sum().item()", "torch.finfo(torch.float32).eps", "torch.finfo(torch.float16).max",
    "torch.finfo(torch.bfloat16).eps",
]


def extras():
    gen = torch.Generator().manual_seed(20261124)
    data = {"a": torch.randn(4, 5, generator=gen), "b": torch.randn(5, generator=gen), "c": torch.rand(4, 5, generator=gen),
            "i": torch.randint(0, 7, (4, 5), generator=gen)}
    nan, inf = float("nan"), float("inf")
    data.update({
        "n": torch.tensor([[1.5, nan, -2.0, inf], [-inf, 0.0, 3.0, -1.0], [2.0, 2.0, nan, -0.5]]),
        "t": torch.randint(0, 3, (3, 6), generator=gen).float(),
        "s": torch.randint(0, 4, (2, 40), generator=gen).float(),
        "x3": torch.randn(2, 3, 4, generator=gen), "y3": torch.randn(2, 4, 5, generator=gen), "e3": torch.randn(2, 3, 5, generator=gen),
        "v": torch.randn(4, generator=gen), "u": torch.randn(5, generator=gen), "w": torch.randn(3, 5, generator=gen), "z": torch.randn(3, generator=gen),
        "m": torch.rand(4, 5, generator=gen) > 0.5, "g": torch.randint(0, 5, (4, 3), generator=gen),
        "h": torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.2345, -7.65]), "k": torch.randint(0, 4, (6,), generator=gen),
    })
    cases = []
    names = [item[0] if isinstance(item, tuple) else item for item in EXTRAS + CATALOGUE]
    assert len(names) == len(set(names)), "a case is listed twice"
    with torch.no_grad():
        for item in EXTRAS + CATALOGUE:
            case, oracle = item if isinstance(item, tuple) else (item, item)
            ns = {"torch": torch, "F": torch.nn.functional, "rms_norm_formula": rms_norm_formula, **{k: v.clone() for k, v in data.items()}}
            cases.append({"expression": case, "output": as_list(run_snippet(oracle, ns))})
    return {"torch": torch.__version__, "inputs": {k: encode(v) for k, v in data.items()}, "cases": cases}


def corpus(root, pattern):
    files = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            if re.search(pattern, name):
                files.append(os.path.join(dirpath, name))
    return sorted(files)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "extras.json"), "w") as f:
        json.dump(extras(), f, separators=(",", ":"))
    print(f"{os.path.join(args.out, 'extras.json')}: {len(EXTRAS) + len(CATALOGUE)} cases")
    for label, root, pattern in (("project", args.project, r"\.yaml$"), ("upstream", args.upstream, r"_ref\.yaml$")):
        if not os.path.isdir(root):
            print(f"skipping {label}: {root} not found")
            continue
        tasks = []
        for path in corpus(root, pattern):
            rel = os.path.relpath(path, root)
            with open(path) as f:
                task = yaml.safe_load(f)
            tasks.append(task_cases(path, rel, task))
        target = os.path.join(args.out, f"{label}.json")
        with open(target, "w") as f:
            json.dump({"torch": torch.__version__, "tasks": tasks}, f, separators=(",", ":"))
        print(f"{target}: {len(tasks)} tasks, {sum(len(t['cases']) for t in tasks)} cases (torch {torch.__version__})")


if __name__ == "__main__":
    main()
