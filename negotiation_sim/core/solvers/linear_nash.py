"""Nash, proposer and Kalai-Smorodinsky texts of three or more principals with linear
utilities, exactly, through the dual of the bargaining set.

With linear utilities ``u_i(x) = sum_k s_ik (1 - |x_k - p_ik|)`` inside a box, the texts of
issue k that matter are the principals' ideal points clipped to the box, the *candidates*
``q_jk``: between two neighbouring candidates every utility is linear in ``x_k``, and each
``u_ik`` is concave, so a mixture ``alpha_k`` of candidates is weakly beaten by the text
``x_k = sum_j alpha_kj q_jk``. The bargaining set is the sum over issues of the convex hulls of
the candidates' utility vectors ``A_kj`` (less free disposal); its support function is
``h(lam) = sum_k max_j lam . A_kj``, per issue the lam-weighted median.

* the generalised Nash text, ``max sum_i c_i log(u_i - d_i)``, has the dual
  ``min_{lam > 0} h(lam) - lam . d - sum_i c_i log lam_i`` (``nash_linear``);
* ``max t`` s.t. ``u >= d + t r`` (Kalai-Smorodinsky with ``r`` the utopia gains; the
  proposer's problem with ``r`` the proposer's unit vector) is a linear programme with the
  dual ``min h(lam) - lam . d`` over ``lam >= 0``, ``lam . r = 1`` (``ray_text``).

Both are solved in epigraph form (``tau_k >= lam . A_kj``, whose multipliers are the mixtures)
by Mehrotra's primal-dual predictor-corrector interior-point method, a P x P system per step,
7-9 steps per Nash text and 9-17 per linear programme; weak duality stops a world whose
thresholds no text meets; the Nash text is then polished exactly on its face. The kernel (``core.solvers._linear_kernels``) is compiled by Numba,
imported on first use only, and is the only implementation of these texts for every number of
worlds. Equations, sources and precision: docs/model.md section 12.2.
"""

from __future__ import annotations

import numpy as np

from negotiation_sim.core.preferences import FEASIBILITY_TOL, Preferences, utilities


def _kernels():
    """The compiled kernel (Numba imported on first use only: runs with two principals never
    pay its import)."""
    from negotiation_sim.core.solvers._linear_kernels import texts

    return texts


def _full(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.ascontiguousarray(np.broadcast_to(a, shape), dtype=np.float64)


def _run(prefs: Preferences, d, c, r, lp: bool, lo, hi) -> np.ndarray:
    P, K, N = prefs.position.shape
    x, _ = _kernels()(_full(prefs.position, (P, K, N)), _full(prefs.salience, (P, K, N)),
                      _full(lo, (K, N)), _full(hi, (K, N)), _full(d, (P, N)),
                      _full(c, (P, N)), _full(r, (P, N)), lp)
    return x


def nash_linear(prefs: Preferences, d: np.ndarray, c: np.ndarray, lo: np.ndarray,
                hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The generalised Nash text of P principals with linear utilities: ``(x (K, N),
    feasible (N,))`` as ``nash.nash_text`` (where infeasible, ``x`` is NaN and the caller
    substitutes its fallback)."""
    x = _run(prefs, d, c, np.zeros_like(c), False, lo, hi)
    feasible = (utilities(x, prefs) - d >= -FEASIBILITY_TOL).all(axis=0)
    return x, feasible


def ray_text(prefs: Preferences, d: np.ndarray, r: np.ndarray, lo: np.ndarray,
             hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The text reaching furthest along ``d + t r`` (``r >= 0``, not all 0): ``max t`` s.t.
    ``u(x) >= d + t r``. Returns ``(x, t)``; ``t`` is that text's reach, ``min_i (u_i - d_i)
    / r_i`` over ``r_i > 0`` (negative where no text gives every principal ``d``)."""
    x = _run(prefs, d, np.zeros_like(r), r, True, lo, hi)
    u = utilities(x, prefs)
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.where(r > 0, (u - d) / np.where(r > 0, r, 1.0), np.inf)
    return x, reach.min(axis=0)
