#!/usr/bin/env python3
"""The library's import graph (src/, without the CLI): arrows, import circles, upward imports.

    python3 scripts/imports.py          # summary
    python3 scripts/imports.py -v       # every arrow that runs up the floors

An arrow A -> B means a `use` or a `crate::`/`super::` path in A names an item of B. A module's
`mod.rs` re-exporting its children counts as importing them. Floors (lowest first) are the
design's layering: nothing may import a module on a higher floor (docs/design.md, "Design").
"""
import os, re, sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src')
FLOORS = [
    ['error', 'human', 'device', 'step', 'cadence'],
    ['data', 'model', 'loss'],
    ['config'],
    ['optim'],
    ['checkpoint'],
    ['method'],
    ['memory', 'worker', 'parallel'],
    ['train'],
    ['eval', 'bench', 'selfcheck'],
    ['results'],
    ['experiment', 'report', 'run', 'recipe'],
    ['web', 'lib'],
]
FLOOR = {m: i for i, ms in enumerate(FLOORS) for m in ms}

def files():
    for root, _, names in os.walk(SRC):
        for n in names:
            if n.endswith('.rs'):
                rel = os.path.relpath(os.path.join(root, n), SRC)
                if rel == 'main.rs' or rel.startswith('cli'):
                    continue
                yield rel

def module_of(rel):
    parts = rel[:-3].split('/')
    if parts[-1] == 'mod':
        parts = parts[:-1]
    return [] if parts == ['lib'] else parts

def file_for(path, known):
    """The deepest file a module path names."""
    for k in range(len(path), 0, -1):
        p = '/'.join(path[:k])
        for cand in (p + '.rs', p + '/mod.rs'):
            if cand in known:
                return cand
    return None

def expand(text):
    """`a::{b, c::{d}}` -> ['a::b', 'a::c::d'] (enough for our imports)."""
    m = re.search(r'\{', text)
    if not m:
        return [text]
    head = text[:m.start()]
    depth, i = 0, m.start()
    for i in range(m.start(), len(text)):
        depth += {'{': 1, '}': -1}.get(text[i], 0)
        if depth == 0:
            break
    inner, out, depth, cur = text[m.start() + 1:i], [], 0, ''
    for ch in inner:
        if ch == ',' and depth == 0:
            out.append(cur); cur = ''; continue
        depth += {'{': 1, '}': -1}.get(ch, 0)
        cur += ch
    out.append(cur)
    return [r for part in out if part.strip() for r in expand(head + part.strip())]

def arrows():
    known = set(files())
    graph = {f: set() for f in known}
    for f in known:
        src = open(os.path.join(SRC, f)).read()
        src = re.sub(r'//[^\n]*', '', src)
        me = module_of(f)
        paths = []
        for m in re.finditer(r'\buse\s+([^;]+);', src):
            paths += expand(re.sub(r'\s+', '', m.group(1)))
        paths += re.findall(r'\b((?:crate|super)(?:::\w+)+)', src)
        for p in paths:
            segs = [s for s in p.split('::') if s]
            if not segs:
                continue
            if segs[0] == 'crate':
                target = segs[1:]
            elif segs[0] == 'super':
                base = me[:-1] if not f.endswith('mod.rs') else me[:-1]
                while segs and segs[0] == 'super':
                    segs = segs[1:]
                target = (me[:-1] if f.endswith('mod.rs') else me[:-1]) + segs
            elif f.endswith('mod.rs') or f == 'lib.rs':
                target = me + segs  # `pub use child::...` in a mod.rs
            else:
                continue
            t = file_for(target, known)
            if t and t != f:
                graph[f].add(t)
    return graph

def cycles(graph):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out

def floor(f):
    top = module_of(f)[0] if module_of(f) else 'lib'
    return FLOOR.get(top)

def main():
    graph = arrows()
    n_arrows = sum(len(v) for v in graph.values())
    up = sorted((a, b) for a in graph for b in graph[a]
                if floor(a) is not None and floor(b) is not None and floor(b) > floor(a))
    unknown = sorted(f for f in graph if floor(f) is None)
    # Every circle at file level, inside a module too (a mod.rs that both re-exports its children
    # and defines what they import back is one: the shared vocabulary belongs in a file of its own).
    circles = cycles(graph)
    print(f'{len(graph)} files, {n_arrows} arrows, {len(circles)} import circles, {len(up)} upward imports')
    for c in circles:
        print('  circle: ' + ' <-> '.join(c))
    if '-v' in sys.argv or up:
        for a, b in up:
            print(f'  up: {a} -> {b}')
    for f in unknown:
        print(f'  (no floor for {f}: add its module to FLOORS)')
    return 1 if (circles or up or unknown) and '--check' in sys.argv else 0

sys.exit(main())
