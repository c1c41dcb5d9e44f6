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


def extras():
    gen = torch.Generator().manual_seed(20261124)
    data = {"a": torch.randn(4, 5, generator=gen), "b": torch.randn(5, generator=gen), "c": torch.rand(4, 5, generator=gen),
            "i": torch.randint(0, 7, (4, 5), generator=gen)}
    cases = []
    for expr in EXTRAS:
        ns = {"torch": torch, **{k: v.clone() for k, v in data.items()}}
        cases.append({"expression": expr, "output": as_list(eval(expr, ns))})
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
    print(f"{os.path.join(args.out, 'extras.json')}: {len(EXTRAS)} expressions")
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
