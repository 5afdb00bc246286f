// TensorFlow.js reference of LoCo Lab's training step (presnet-tiny; SimCLR, GIM, LoCo), the
// library a web developer would otherwise use. Same network as src/model/arch.rs and
// bench/pytorch/locolab_ref.py: CIFAR stem, six PResNet stages with bilinear downsampling
// (half-pixel centres), basic and bottleneck blocks, grouped 3x3 convs (TF.js has no `groups`:
// the channels are split, convolved and concatenated, as a TF.js user would), BatchNorm on the
// batch's statistics, conv-mlp decoders (one stride-2 block, mean pool, 2-layer MLP; the top
// stage gets the MLP only), NT-Xent (temperature 0.5), Adam (lr 1e-3) with L2 weight decay 1e-6.
// Units as in src/method: one (SimCLR), one per stage (GIM), two stages overlapping by one (LoCo);
// a unit's input is the output of the stage below, taken as a constant (no gradient crosses it).
// Every unit's gradient is computed from the same pre-step weights and the summed update is
// applied once per step, which is the same arithmetic as our per-unit release.
/* global tf */

const PRESNET_TINY = [
  // kind, width, out, blocks, groups, grouped_last_1x1, size
  ['basic', 16, 16, 1, 1, false, 32],
  ['basic', 24, 24, 1, 1, false, 22],
  ['bott', 16, 64, 1, 1, false, 16],
  ['bott', 24, 96, 1, 2, true, 12],
  ['bott', 32, 128, 1, 4, true, 8],
  ['bott', 48, 192, 1, 8, true, 6],
];
const STEM = 16;

let seed = 1;
const params = [];
function variable(shape, fanIn, init = 'he') {
  const v = init === 'one' ? tf.ones(shape) : init === 'zero' ? tf.zeros(shape)
    : tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed++);
  const p = tf.variable(v);
  v.dispose();
  params.push(p);
  return p;
}

// conv (k x k, stride, groups) + BatchNorm (batch statistics), NHWC.
function convBn(cin, cout, k, stride = 1, groups = 1) {
  const w = Array.from({ length: groups }, () => variable([k, k, cin / groups, cout / groups], (k * k * cin) / groups));
  const gamma = variable([cout], 0, 'one');
  const beta = variable([cout], 0, 'zero');
  return (x) => {
    const pad = k === 1 ? 'valid' : [[0, 0], [k >> 1, k >> 1], [k >> 1, k >> 1], [0, 0]];
    const xs = groups === 1 ? [x] : tf.split(x, groups, 3);
    const ys = xs.map((xi, g) => tf.conv2d(xi, w[g], stride, pad));
    const y = groups === 1 ? ys[0] : tf.concat(ys, 3);
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    return tf.batchNorm(y, mean, variance, beta, gamma, 1e-5);
  };
}

function block(kind, cin, width, out, stride = 1, groups = 1, lastGroups = 1) {
  const convs = kind === 'basic'
    ? [convBn(cin, width, 3, stride, groups), convBn(width, out, 3, 1, groups)]
    : [convBn(cin, width, 1), convBn(width, width, 3, stride, groups), convBn(width, out, 1, 1, lastGroups)];
  const shortcut = cin !== out || stride !== 1 ? convBn(cin, out, 1, stride) : null;
  return (x) => {
    const identity = shortcut ? shortcut(x) : x;
    let h = x;
    convs.forEach((c, i) => { h = c(h); if (i < convs.length - 1) h = tf.relu(h); });
    return tf.relu(tf.add(h, identity));
  };
}

function stage(row, cin) {
  const [kind, width, out, blocks, groups, groupedLast, size] = row;
  const bs = Array.from({ length: blocks }, (_, b) => block(kind, b ? out : cin, width, out, 1, groups, groupedLast && b > 0 ? groups : 1));
  return (x) => {
    if (x.shape[1] !== size) x = tf.image.resizeBilinear(x, [size, size], false, true);
    for (const b of bs) x = b(x);
    return x;
  };
}

function decoder(kind, blockKind, channels, proj) {
  const width = blockKind === 'basic' ? channels : Math.max(channels >> 2, 1);
  const blk = kind === 'conv-mlp' ? block(blockKind, channels, width, channels, 2) : null;
  const hidden = Math.min(channels, 2048);
  const w1 = variable([channels, hidden], channels);
  const b1 = variable([hidden], 0, 'zero');
  const w2 = variable([hidden, proj], hidden);
  const b2 = variable([proj], 0, 'zero');
  return (x) => {
    if (blk) x = blk(x);
    const pooled = tf.mean(x, [1, 2]);
    return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(pooled, w1), b1)), w2), b2);
  };
}

// src/loss.rs: mean over 2N rows of -s(i, p(i)) + logsumexp_{j != i} s(i, j), s = cos / t.
function ntXent(z, t) {
  const n2 = z.shape[0];
  const zn = tf.div(z, tf.maximum(tf.norm(z, 'euclidean', 1, true), 1e-12));
  const sim = tf.sub(tf.div(tf.matMul(zn, zn, false, true), t), tf.mul(tf.eye(n2), 1e9));
  const target = tf.oneHot(tf.tensor1d(Array.from({ length: n2 }, (_, i) => (i + n2 / 2) % n2), 'int32'), n2);
  return tf.mean(tf.sub(tf.logSumExp(sim, 1), tf.sum(tf.mul(sim, target), 1)));
}

function units(method, n) {
  if (method === 'simclr') return [[0, n]];
  if (method === 'gim') return Array.from({ length: n }, (_, k) => [k, k + 1]);
  if (method === 'loco') return Array.from({ length: n - 1 }, (_, k) => [k, k + 2]);
  throw new Error(`unknown method ${method}`);
}

// A trainer: build(method) -> { step(views) -> Promise<losses> }.
export function build(method, { proj = 128, lr = 1e-3, weightDecay = 1e-6, temperature = 0.5 } = {}) {
  params.length = 0;
  seed = 1;
  const stem = convBn(3, STEM, 3);
  const cins = [STEM, ...PRESNET_TINY.slice(0, -1).map((r) => r[2])];
  const stages = PRESNET_TINY.map((r, i) => stage(r, cins[i]));
  // Variables of the stem and each stage, to give each unit only its own.
  const plan = units(method, stages.length);
  const heads = plan.map(([, end]) => {
    const top = end - 1;
    return decoder(top === stages.length - 1 ? 'mlp' : 'conv-mlp', PRESNET_TINY[top][0], PRESNET_TINY[top][2], proj);
  });
  const vars = params.slice();
  const optimizer = tf.train.adam(lr);
  return {
    params: vars.reduce((a, v) => a + v.size, 0),
    async step(views) {
      const grads = {};
      const losses = [];
      const cache = {}; // stage index -> its output, kept as a constant for the unit above
      plan.forEach(([start, end], u) => {
        const { value, grads: g } = tf.variableGrads(() => {
          let x = start === 0 ? tf.relu(stem(views)) : cache[start - 1];
          for (let s = start; s < end; s++) {
            x = stages[s](x);
            if (s < stages.length - 1 && !(s in cache) && plan.some(([b], v) => v > u && b === s + 1)) cache[s] = tf.keep(x.clone());
          }
          return ntXent(heads[u](x), temperature);
        });
        for (const [name, gr] of Object.entries(g)) {
          if (grads[name]) { const sum = tf.add(grads[name], gr); grads[name].dispose(); gr.dispose(); grads[name] = sum; } else grads[name] = gr;
        }
        losses.push(value);
      });
      Object.values(cache).forEach((t) => t.dispose());
      // Adam with L2 weight decay (weight_decay * w added to the gradient, as burn's Adam).
      const named = {};
      for (const v of vars) {
        const g = grads[v.name];
        if (!g) continue;
        named[v.name] = tf.tidy(() => tf.add(g, tf.mul(v, weightDecay)));
        g.dispose();
      }
      optimizer.applyGradients(named);
      Object.values(named).forEach((t) => t.dispose());
      const out = await Promise.all(losses.map((l) => l.data()));
      losses.forEach((l) => l.dispose());
      return out.map((a) => a[0]);
    },
    dispose() { vars.forEach((v) => v.dispose()); optimizer.dispose(); },
  };
}

// Seconds per step: one warm-up step, then the median of `steps` (inputs made outside the clock).
export async function time(method, batch, steps) {
  const trainer = build(method);
  const secs = [];
  let losses = null;
  for (let i = 0; i <= steps; i++) {
    const views = tf.randomUniform([2 * batch, 32, 32, 3], 0, 1, 'float32', 1000 + i);
    await views.data();
    const t0 = performance.now();
    losses = await trainer.step(views);
    if (i > 0) secs.push((performance.now() - t0) / 1000);
    views.dispose();
  }
  trainer.dispose();
  const median = [...secs].sort((a, b) => a - b)[Math.floor(secs.length / 2)];
  return { median, losses, params: trainer.params };
}
