"""The compiled kernels of ``core.solvers.linear_nash`` (Numba, ``cache=True``): imported only when a
problem with three or more principals and linear utilities is solved, so that other runs
never pay Numba's import. The method and its sources: ``core.solvers.linear_nash``."""

from __future__ import annotations

import numpy as np
from numba import njit

GAP = 1e-12  # mean complementarity at which the LP's iterations stop, relative to the scores
NASH_GAP = 1e-9  # ... the Nash text's (its polish on the optimal face finishes it exactly)
_SIGNIFICANT = 1e-6  # a candidate's share in the mixture that puts the text off its vertex
_POLISH = 8  # Newton steps of the Nash text on its face
_MU_START = 0.1  # first complementarity, relative to the scale of the scores
_MAX_STEPS = 100  # predictor-corrector steps per text
_CERTIFICATE = 2e-9  # h(lam) this far below lam . d (per unit of weight) proves infeasibility


@njit(cache=True, error_model="numpy")
def cholesky(S, P, L):
    """The Cholesky factor ``L`` of the symmetric positive (semi)definite ``S`` (P, P); a pivot
    below 1e-13 of the largest diagonal is a singular direction and is floored there."""
    top = 0.0
    for j in range(P):
        top = max(top, S[j, j])
    floor = max(1e-13 * top, 1e-300)
    for j in range(P):
        s = S[j, j]
        for m in range(j):
            s -= L[j, m] * L[j, m]
        L[j, j] = np.sqrt(max(s, floor))
        for i in range(j + 1, P):
            t = S[i, j]
            for m in range(j):
                t -= L[i, m] * L[j, m]
            L[i, j] = t / L[j, j]


@njit(cache=True, error_model="numpy")
def chol_solve(L, b, P, y, z):
    """``z = (L L^T)^-1 b`` (``y``: work array)."""
    for i in range(P):
        t = b[i]
        for m in range(i):
            t -= L[i, m] * y[m]
        y[i] = t / L[i, i]
    for i in range(P - 1, -1, -1):
        t = y[i]
        for m in range(i + 1, P):
            t -= L[m, i] * z[m]
        z[i] = t / L[i, i]


@njit(cache=True, error_model="numpy")
def cholesky_solve(S, b, P, L, y, z):
    """``z = S^-1 b`` for symmetric positive (semi)definite ``S``, in the work arrays
    ``L`` (P, P), ``y`` and ``z`` (P,)."""
    cholesky(S, P, L)
    chol_solve(L, b, P, y, z)


@njit(cache=True, error_model="numpy")
def factor(A, c, r, lp, lam, tau, alpha, sl, zeta, K, J, P, work):
    """The parts of the Newton system that do not depend on the complementarity targets,
    shared by the predictor and the corrector: the weights ``alpha / s``, each issue's weighted
    mean candidate, the slacks' residuals, and the Cholesky factor ``L`` of the P x P Schur
    complement ``M`` (and, for the LP, ``z2 = M^-1 r``)."""
    M, rhs, Abar, W, rho, L, y, z1, z2, w, rsb = work
    for i in range(P):
        for m in range(P):
            M[i, m] = 0.0
        M[i, i] = zeta[i] / lam[i] if lp else c[i] / (lam[i] * lam[i])
    for k in range(K):
        Wk = 0.0
        for i in range(P):
            Abar[k, i] = 0.0
        for j in range(J):
            rs = sl[k, j] - tau[k]  # the slack's residual s - (tau - lam . A)
            for i in range(P):
                rs += lam[i] * A[k, j, i]
            rsb[k, j] = rs
            ws = alpha[k, j] / sl[k, j]
            w[k, j] = ws
            Wk += ws
            for i in range(P):
                Abar[k, i] += ws * A[k, j, i]
        W[k] = Wk
        for i in range(P):
            Abar[k, i] /= Wk
        for j in range(J):
            ws = w[k, j]
            for i in range(P):
                ai = ws * (A[k, j, i] - Abar[k, i])
                for m in range(i + 1):
                    M[i, m] += ai * (A[k, j, m] - Abar[k, m])
    for i in range(P):
        for m in range(i):
            M[m, i] = M[i, m]
    cholesky(M, P, L)
    if lp:
        chol_solve(L, r, P, y, z2)


@njit(cache=True, error_model="numpy")
def direction(A, d, c, r, lp, lam, tau, alpha, sl, zeta, theta, rc, rz, K, J, P,
              dl, dt, da, ds, dz, work):
    """The Newton direction of the perturbed KKT system with complementarity targets
    ``rc`` (K, J) and ``rz`` (P,), on the factor of ``factor``; returns ``dtheta``. The issues'
    variables are eliminated (their Schur complement), leaving a P x P system."""
    M, rhs, Abar, W, rho, L, y, z1, z2, w, rsb = work
    for i in range(P):
        # minus the lam-residual: d + c / lam - sum alpha A (Nash), or d + zeta + theta r -
        # sum alpha A (LP), plus the LP's complementarity term
        rhs[i] = d[i] + (zeta[i] + theta * r[i] + rz[i] / lam[i] if lp else c[i] / lam[i])
    for k in range(K):
        rk = 0.0
        rt = 1.0
        for j in range(J):
            a = alpha[k, j]
            rt -= a
            ekj = rc[k, j] / sl[k, j] + w[k, j] * rsb[k, j]
            rk += ekj
            for i in range(P):
                rhs[i] -= (a + ekj) * A[k, j, i]
        rk -= rt  # (rho_k - r_tau_k)
        rho[k] = rk
        for i in range(P):
            rhs[i] += Abar[k, i] * rk
    chol_solve(L, rhs, P, y, z1)
    dtheta = 0.0
    if lp:
        req = -1.0
        num = 0.0
        den = 0.0
        for i in range(P):
            req += lam[i] * r[i]
            num -= r[i] * z1[i]
            den += r[i] * z2[i]
        num -= req
        dtheta = num / den if den > 0.0 else 0.0
        for i in range(P):
            z1[i] += dtheta * z2[i]
    for i in range(P):
        dl[i] = z1[i]
        if lp:
            dz[i] = (rz[i] - zeta[i] * dl[i]) / lam[i]
    for k in range(K):
        t = rho[k] / W[k]
        for i in range(P):
            t += Abar[k, i] * dl[i]
        dt[k] = t
        for j in range(J):
            v = t - rsb[k, j]
            for i in range(P):
                v -= dl[i] * A[k, j, i]
            ds[k, j] = v
            da[k, j] = (rc[k, j] - alpha[k, j] * v) / sl[k, j]
    return dtheta


@njit(cache=True, error_model="numpy")
def max_step(v, dv):
    t = np.inf
    vr = v.ravel()
    dvr = dv.ravel()
    for idx in range(vr.size):
        if dvr[idx] < 0.0:
            t = min(t, -vr[idx] / dvr[idx])
    return t


@njit(cache=True, error_model="numpy")
def support(A, lam, K, J, P, scores, best):
    """The support function ``h(lam) = sum_k max_j lam . A_kj``, with the scores (K, J) and
    each issue's best score (K,) written to the work arrays."""
    h = 0.0
    for k in range(K):
        top = -np.inf
        for j in range(J):
            v = 0.0
            for i in range(P):
                v += lam[i] * A[k, j, i]
            scores[k, j] = v
            top = max(top, v)
        best[k] = top
        h += top
    return h


@njit(cache=True, error_model="numpy")
def solve_one(A, d, c, r, lp, lam, alpha, ws):
    """One world: Mehrotra's predictor-corrector from the weights ``lam`` (changed in
    place); the primal mixture goes to ``alpha`` (K, J). Returns the iterations."""
    K, J, P = A.shape
    tau, sl, zeta, dl, dt, da, ds, dz, rc, rz, work = ws
    zeta[:] = 1.0
    dz[:] = 0.0
    rz[:] = 0.0
    theta = 0.0
    support(A, lam, K, J, P, sl, tau)  # the scores lam . A_kj, each issue's best in tau
    scale = 0.0
    for k in range(K):
        scale += abs(tau[k])
    scale = max(scale, 1e-12)
    gap0 = _MU_START * scale / K
    for k in range(K):
        tau[k] += gap0 * J
        for j in range(J):
            sl[k, j] = tau[k] - sl[k, j]
            alpha[k, j] = 1.0 / J
    if lp:
        for i in range(P):
            zeta[i] = gap0 / lam[i]
    m = K * J + (P if lp else 0)
    it = 0
    for it in range(1, _MAX_STEPS + 1):
        mu = 0.0
        for k in range(K):
            for j in range(J):
                mu += alpha[k, j] * sl[k, j]
        if lp:
            for i in range(P):
                mu += zeta[i] * lam[i]
        mu /= m
        if mu <= (GAP if lp else NASH_GAP) * scale / m:
            break
        # Weak duality: every text has lam . u <= h(lam), so h(lam) < lam . d (beyond the
        # acceptance tolerance) proves that no text gives every principal d (Nash), or that
        # t < 0 (the linear programme). Stop there: the dual would run off to infinity.
        hval = support(A, lam, K, J, P, work[9], work[3])  # (w and W: scratch here)
        total = 0.0
        for i in range(P):
            hval -= lam[i] * d[i]
            total += lam[i]
        if hval < -_CERTIFICATE * total:
            return -it
        factor(A, c, r, lp, lam, tau, alpha, sl, zeta, K, J, P, work)
        # predictor: the affine-scaling direction (complementarity target 0)
        for k in range(K):
            for j in range(J):
                rc[k, j] = -alpha[k, j] * sl[k, j]
        for i in range(P):
            rz[i] = -zeta[i] * lam[i] if lp else 0.0
        direction(A, d, c, r, lp, lam, tau, alpha, sl, zeta, theta, rc, rz, K, J, P,
                  dl, dt, da, ds, dz, work)
        t = min(1.0, max_step(alpha, da), max_step(sl, ds), max_step(lam, dl))
        if lp:
            t = min(t, max_step(zeta, dz))
        aff = 0.0
        for k in range(K):
            for j in range(J):
                aff += (alpha[k, j] + t * da[k, j]) * (sl[k, j] + t * ds[k, j])
        if lp:
            for i in range(P):
                aff += (zeta[i] + t * dz[i]) * (lam[i] + t * dl[i])
        sigma = min(1.0, (aff / m / mu) ** 3)
        # corrector: centring at sigma mu, with the predictor's second-order term
        for k in range(K):
            for j in range(J):
                rc[k, j] = sigma * mu - alpha[k, j] * sl[k, j] - da[k, j] * ds[k, j]
        if lp:
            for i in range(P):
                rz[i] = sigma * mu - zeta[i] * lam[i] - dz[i] * dl[i]
        dth = direction(A, d, c, r, lp, lam, tau, alpha, sl, zeta, theta, rc, rz, K, J,
                        P, dl, dt, da, ds, dz, work)
        t = min(max_step(alpha, da), max_step(sl, ds), max_step(lam, dl))
        if lp:
            t = min(t, max_step(zeta, dz))
        t = min(1.0, 0.99 * t)
        if not (np.isfinite(t) and np.isfinite(dth) and np.isfinite(dl.sum())
                and np.isfinite(da.sum())):
            break
        for i in range(P):
            lam[i] += t * dl[i]
            if lp:
                zeta[i] += t * dz[i]
        theta += t * dth
        for k in range(K):
            tau[k] += t * dt[k]
            for j in range(J):
                alpha[k, j] += t * da[k, j]
                sl[k, j] += t * ds[k, j]
    for k in range(K):
        tot = 0.0
        for j in range(J):
            tot += alpha[k, j]
        for j in range(J):
            alpha[k, j] /= tot
    return it


@njit(cache=True, error_model="numpy")
def nash_value(x, pos, sal, d, c, n, K, P):
    f = 0.0
    for i in range(P):
        u = 0.0
        for k in range(K):
            u += sal[i, k, n] * (1.0 - abs(x[k] - pos[i, k, n]))
        y = u - d[i, n]
        if y <= 0.0:
            return -np.inf
        f += c[i, n] * np.log(y)
    return f


@njit(cache=True, error_model="numpy")
def polish(x, a, b, pos, sal, d, c, n, K, P, pw):
    """Newton steps of the Nash objective in the issues free on the face (``a < b``),
    each kept inside [a, b] by an active set: an issue at (or, from the interior-point
    mixture, within ``1e-6`` of the face's width of) an end its gradient points past is held
    there. Exact utilities: no slack is subtracted."""
    coef, trial, g, free, H, gf, step, Lw, yw = pw
    for _ in range(_POLISH):
        f0 = nash_value(x, pos, sal, d, c, n, K, P)
        if not np.isfinite(f0):
            return
        for i in range(P):
            u = 0.0
            for k in range(K):
                u += sal[i, k, n] * (1.0 - abs(x[k] - pos[i, k, n]))
            coef[i] = 1.0 / (u - d[i, n])
        F = 0
        for k in range(K):
            width = b[k] - a[k]
            if width <= 1e-15:
                continue
            mid = 0.5 * (a[k] + b[k])  # the face's side of each ideal point
            gk = 0.0
            for i in range(P):
                sl = -sal[i, k, n] if mid > pos[i, k, n] else sal[i, k, n]
                gk += c[i, n] * coef[i] * sl
            g[k] = gk
            near = 1e-6 * width
            if gk > 0.0 and x[k] >= b[k] - near:
                x[k] = b[k]
            elif gk < 0.0 and x[k] <= a[k] + near:
                x[k] = a[k]
            else:
                free[F] = k
                F += 1
        if F == 0:
            return
        f0 = nash_value(x, pos, sal, d, c, n, K, P)
        for m in range(F):
            km = free[m]
            gf[m] = g[km]
            mm = 0.5 * (a[km] + b[km])
            for l in range(m + 1):
                kl = free[l]
                ml = 0.5 * (a[kl] + b[kl])
                h = 0.0
                for i in range(P):
                    sm = -sal[i, km, n] if mm > pos[i, km, n] else sal[i, km, n]
                    sl = -sal[i, kl, n] if ml > pos[i, kl, n] else sal[i, kl, n]
                    h += c[i, n] * coef[i] * coef[i] * sm * sl
                H[m, l] = h
                H[l, m] = h
            H[m, m] += 1e-14
        cholesky_solve(H, gf, F, Lw, yw, step)
        t = 1.0
        ok = False
        for _b in range(30):
            for k in range(K):
                trial[k] = x[k]
            for m in range(F):
                k = free[m]
                trial[k] = min(max(x[k] + t * step[m], a[k]), b[k])
            if nash_value(trial, pos, sal, d, c, n, K, P) >= f0:
                ok = True
                break
            t *= 0.5
        if not ok:
            return
        moved = 0.0
        for k in range(K):
            moved = max(moved, abs(trial[k] - x[k]))
            x[k] = trial[k]
        if moved < 1e-15:
            return


@njit(cache=True, error_model="numpy")
def texts(pos, sal, lo, hi, d, c, r, lp):
    """Every world's text ``(K, N)`` and Newton steps ``(N,)``."""
    P, K, N = pos.shape
    J = P
    x = np.empty((K, N))
    steps = np.empty(N, dtype=np.int64)
    A = np.empty((K, J, P))
    q = np.empty((K, J))
    alpha = np.empty((K, J))
    lam = np.empty(P)
    xk = np.empty(K)
    fa_k = np.empty(K)
    fb_k = np.empty(K)
    ws = (np.empty(K), np.empty((K, J)), np.empty(P), np.empty(P), np.empty(K),
          np.empty((K, J)), np.empty((K, J)), np.empty(P), np.empty((K, J)), np.empty(P),
          (np.empty((P, P)), np.empty(P), np.empty((K, P)), np.empty(K), np.empty(K),
           np.empty((P, P)), np.empty(P), np.empty(P), np.empty(P), np.empty((K, J)),
           np.empty((K, J))))
    pw = (np.empty(P), np.empty(K), np.empty(K), np.empty(K, dtype=np.int64),
          np.empty((K, K)), np.empty(K), np.empty(K), np.empty((K, K)), np.empty(K))
    for n in range(N):
        for k in range(K):
            for j in range(J):
                q[k, j] = min(max(pos[j, k, n], lo[k, n]), hi[k, n])
            for j in range(J):
                for i in range(P):
                    A[k, j, i] = sal[i, k, n] * (1.0 - abs(q[k, j] - pos[i, k, n]))
        if lp:
            tot = 0.0
            for i in range(P):
                tot += r[i, n]
            for i in range(P):
                lam[i] = 1.0 / tot
        else:
            for i in range(P):
                best = 0.0
                mean = 0.0
                for k in range(K):
                    top = -np.inf
                    for j in range(J):
                        top = max(top, A[k, j, i])
                        mean += A[k, j, i] / J
                    best += top
                lam[i] = c[i, n] / max(0.5 * (mean + best) - d[i, n], 1e-3)
        steps[n] = solve_one(A, d[:, n], c[:, n], r[:, n], lp, lam, alpha, ws)
        if steps[n] < 0:  # proved infeasible: the caller's check rejects any text
            for k in range(K):
                x[k, n] = np.nan
            continue
        for k in range(K):
            s = 0.0
            top = 0
            for j in range(J):
                s += alpha[k, j] * q[k, j]
                if alpha[k, j] > alpha[k, top]:
                    top = j
            s = min(max(s, lo[k, n]), hi[k, n])
            # the face: one candidate (a vertex) where no other candidate away from it
            # has a share, else the piece between neighbouring candidates holding x
            spread = False
            for j in range(J):
                if alpha[k, j] > _SIGNIFICANT and abs(q[k, j] - q[k, top]) > 1e-15:
                    spread = True
            left = -np.inf
            right = np.inf
            for j in range(J):
                if q[k, j] <= s:
                    left = max(left, q[k, j])
                if q[k, j] >= s:
                    right = min(right, q[k, j])
            if not spread:
                left = right = q[k, top]
                s = q[k, top]
            xk[k] = s
            fa_k[k] = left
            fb_k[k] = right
        if not lp:
            polish(xk, fa_k, fb_k, pos, sal, d, c, n, K, P, pw)
        for k in range(K):
            x[k, n] = xk[k]
    return x, steps
