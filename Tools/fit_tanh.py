"""Fits the rational approximation of tanh used by Sources/CRNNKitKernels/rnnkit_kernels.c.

tanh(x) ~ x * P(x^2) / Q(x^2) on [0, 8] (odd, so this covers [-8, 8]), P of degree 5 and Q of
degree 3 with Q(0) = 1, near-minimax in absolute error by Lawson's iteratively reweighted least
squares on the linearised problem x*P - tanh*Q = 0. Prints the coefficients (lowest degree first)
and the largest error of the float32 evaluation that the C kernel does (without fused
multiply-adds, as on its portable path), for tanh and for sigmoid(x) = (1 + tanh(x/2)) / 2 =
(q + (x/2)*p) / (2q) with the parts p, q of tanh(x/2), against float64 references.

    pip install -r Tools/requirements.txt && python3 Tools/fit_tanh.py
"""
import numpy as np

CLAMP = 8.0          # 1 - tanh(8) = 2.3e-7: beyond it the clamped value is within float32 noise
P_TERMS, Q_TERMS = 6, 4


def fit():
    x = np.unique(np.concatenate([np.linspace(0, CLAMP, 30001),
                                  CLAMP * (1 - np.cos(np.linspace(0, np.pi / 2, 30001)))]))
    t, scale = np.tanh(x), CLAMP * CLAMP
    v = x * x / scale  # a scaled variable keeps the least-squares system well conditioned
    weights, previous_q, best = np.full(len(x), 1 / len(x)), np.ones(len(x)), None
    for _ in range(200):
        columns = [x * v ** i for i in range(P_TERMS)] + [-t * v ** j for j in range(1, Q_TERMS)]
        a = np.stack(columns, axis=1)
        w = np.sqrt(weights) / np.abs(previous_q)
        solution, *_ = np.linalg.lstsq(a * w[:, None], t * w, rcond=None)
        p, q = solution[:P_TERMS], np.concatenate([[1.0], solution[P_TERMS:]])
        q_values = np.polyval(q[::-1], v)
        error = x * np.polyval(p[::-1], v) / q_values - t
        if best is None or np.abs(error).max() < best[0]:
            best = (np.abs(error).max(), p, q)
        previous_q = q_values
        weights = weights * np.abs(error)
        weights /= weights.sum()
    largest, p, q = best
    # Back to powers of u = x^2.
    return largest, [c / scale ** i for i, c in enumerate(p)], [c / scale ** j for j, c in enumerate(q)]


def tanh_parts_f32(x, p, q):
    """The C kernel's tanh_parts in float32: the clamped x, P(x^2) and Q(x^2)."""
    f = np.float32
    x = np.clip(x, f(-CLAMP), f(CLAMP))
    u = x * x
    num, den = f(p[-1]), f(q[-1])
    for c in p[-2::-1]:
        num = num * u + f(c)
    for c in q[-2::-1]:
        den = den * u + f(c)
    return x, num, den


def main():
    largest, p, q = fit()
    print(f"max error in float64: {largest:.3g}")
    print("P:", ", ".join(f"{c:.9e}" for c in p))
    print("Q:", ", ".join(f"{c:.9e}" for c in q))
    xs = np.linspace(-40, 40, 4_000_001).astype(np.float32)
    exact = xs.astype(np.float64)
    x, num, den = tanh_parts_f32(xs, p, q)
    tanh_error = np.abs(x * num / den - np.tanh(exact)).max()
    half, num, den = tanh_parts_f32(xs * np.float32(0.5), p, q)
    sigmoid = (den + half * num) / (den + den)
    sigmoid_error = np.abs(sigmoid - 1 / (1 + np.exp(-exact))).max()
    print(f"float32 max error: tanh {tanh_error:.3g}, sigmoid {sigmoid_error:.3g}")


if __name__ == "__main__":
    main()
