"""A 3x3, stride-1 CONV_2D followed by a 2x2, stride-2 MAX_POOL_2D, by
Winograd's minimal filtering F(4x4, 3x3) (Lavin & Gray, 2015).

Each 6x6 input tile d gives a 4x4 output tile A^T [(G g G^T) * (B^T d B)] A:
36 products per tile and channel pair instead of 144, so the dominant cost
of a batch's large convolution (mnist_cnn's second layer: 10.6 M multiply-adds
an image) drops 4x.  With numpy the transforms are matrix products too, one
per side (B^T times the tiles' rows, then B^T again broadcast over them):
less than half the work of one product with the Kronecker product B^T (x) B^T
(measured 1.14 ms against 1.35 for mnist_cnn's batch of 32).  That leaves a
2x saving overall; the batch goes through in chunks of a few images so each
chunk's transformed tiles stay in cache.

A^T's rows are ordered (phase, position in the 2x2 pooled block), so the pool
is a maximum over the two phases of each side; bias, which commutes with
max, and the activation then run on the pooled output only.

Rounding differs from direct summation (the transforms scale values by up
to 8 and back): about 4e-6 of the output's largest magnitude on mnist_cnn,
well inside what float kernels promise.  The plain im2col path stays the
reference; tests compare the two.
"""
import numpy as np

from .._pool import PaddedInput

_BT = np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], np.float64)
_G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
               [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]], np.float64)
_AT = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]], np.float64)

INPUT_TRANSFORM = _BT.astype(np.float32)
# Output rows u of a 4x4 tile, reordered as (u % 2, u // 2): phase, then position in the pooled block.
OUTPUT_TRANSFORM = _AT[[0, 2, 1, 3]].astype(np.float32)

# Images per chunk: 4 keeps a chunk's tiles (a few MB for 32 -> 64 channels
# of a 26x26 input) within this machine's L2/L3 sweet spot (measured 6.2 ms
# for mnist_cnn's layer at batch 32, vs 7.2 ms one image at a time).
CHUNK = 4
# Below this batch the per-chunk overhead outweighs the saving.
MIN_BATCH = 4


def applies(node, pool) -> bool:
    """Whether the fused conv + pool step can take this path."""
    g = node.data.geometry
    fh, fw, ph, pw = pool
    return ((g["kh"], g["kw"], g["sh"], g["sw"], g["dh"], g["dw"]) == (3, 3, 1, 1, 1, 1)
            and (fh, fw) == (2, 2) and ph % 2 == 0 and pw % 2 == 0 and ph and pw
            and node.data.groups == 1 and node.inputs[0].shape[0] >= MIN_BATCH)


def transformed_filter(filt):
    """[36, cin, cout]: G g G^T for each (cin, cout) pair, computed in float64."""
    u = np.einsum("ak,bl,okls->abso", _G, _G, filt.astype(np.float64))
    return np.ascontiguousarray(u.reshape(36, filt.shape[3], filt.shape[0]), np.float32)


class Plan:
    """Buffers and views for one (input array, pooled output array) pair."""

    def __init__(self, x, out, g, pool):
        n, c = x.shape[0], x.shape[3]
        self.pad = PaddedInput(x, g, 0)
        _, _, ph, pw = pool
        th, tw = ph // 2, pw // 2            # 4x4 output tiles: 2x2 pooled values each
        cout = out.shape[-1]
        self.chunks = []
        for a in range(0, n, CHUNK):
            b = min(n, a + CHUNK)
            xc = self.pad.padded[a:b]
            s = xc.strides
            tiles = np.lib.stride_tricks.as_strided(
                xc, (6, 6, b - a, th, tw, c), (s[1], s[2], s[0], 4 * s[1], 4 * s[2], s[3]), writeable=False)
            # pooled[n, 2i + pu, 2j + pv] <- block (pu, pv) of tile (n, i, j)
            dst = out[a:b].reshape(b - a, th, 2, tw, 2, cout).transpose(2, 4, 0, 1, 3, 5)
            self.chunks.append((tiles, dst, b - a))
        # One set of buffers per chunk size (the last chunk may be smaller).
        self.buffers = {}
        for _, _, k in self.chunks:
            t = k * th * tw
            if t not in self.buffers:
                self.buffers[t] = tuple(np.empty(shape, x.dtype) for shape in (
                    (6, 6, t, c), (6, 6, t, c), (6, 6, t, c), (36, t, cout), (4, 6, t, cout), (4, 4, t, cout),
                    (2, 2, 2, t, cout), (2, 2, t, cout)))
        self.th, self.tw, self.cout = th, tw, cout
        self.x, self.out = x, out


def run(node, x, out):
    """Write the pooled, biased, activated output (`node.data.act` is the conv's
    activation combined with the pool's)."""
    plan = node.cache.get("winograd")
    if plan is None or plan.x is not x or plan.out is not out:
        plan = node.cache["winograd"] = Plan(x, out, node.data.geometry, node.data.pool)
    plan.pad.refresh(x)
    th, tw, cout = plan.th, plan.tw, plan.cout
    bt, at = INPUT_TRANSFORM, OUTPUT_TRANSFORM
    for tiles, dst, k in plan.chunks:
        d, rows, v, m, out_rows, y, half, p = plan.buffers[k * th * tw]
        np.copyto(d.reshape(tiles.shape), tiles)
        np.matmul(bt, d.reshape(6, -1), out=rows.reshape(6, -1))            # B^T d
        np.matmul(bt, rows.reshape(6, 6, -1), out=v.reshape(6, 6, -1))      # (B^T d) B, on each row
        np.matmul(v.reshape(36, -1, v.shape[-1]), node.data.winograd_filter, out=m)
        np.matmul(at, m.reshape(6, -1), out=out_rows.reshape(4, -1))        # A^T m
        np.matmul(at, out_rows.reshape(4, 6, -1), out=y.reshape(4, 4, -1))  # (A^T m) A
        # y[(pu, hu), (pv, hv)]: the pool is the maximum over pu, then over pv.
        y6 = y.reshape(2, 2, 2, 2, -1)
        np.maximum(y6[0], y6[1], out=half.reshape(2, 2, 2, -1))
        np.maximum(half[:, 0], half[:, 1], out=p)
        np.copyto(dst, p.reshape(2, 2, k, th, tw, cout))
    if node.data.winograd_bias is not None:
        np.add(out, node.data.winograd_bias, out=out)
    if node.data.act is not None:
        node.data.act(out)
