"""Numbers that may be uncertain: fixed values and the distributions a scenario can draw them from.

Any number in a scenario file may be written as a distribution (``{dist: uniform, low: 0, high: 1}``);
each simulated world draws its own value. This module owns the pydantic models of those
distributions, the ``Num`` field type that accepts a number or a distribution, range checks that
look at a distribution's whole support, each distribution's CDF and quantile function (``ppf``),
and vectorised sampling from a numpy ``Generator``.

Every number is finite and at most ``limits.MAX_MAGNITUDE`` in size, fixed values and every
parameter of a distribution alike, so every draw is finite too (an untruncated normal side ends
``limits.NORMAL_REACH_SD`` standard deviations out). Sampling is exact where float64 allows:
a normal truncated far in its tail is drawn by its inverse CDF in log space, one uniform per
draw as everywhere else, so that streams never depend on rejection.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from negotiation_sim.config.limits import MAX_MAGNITUDE, NORMAL_REACH_SD

# Every model of a file users write: unknown fields are errors, values immutable, numbers finite.
STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
_STRICT = STRICT


def _bounded(value: float) -> float:
    if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
        raise ValueError(f"{value:g} is out of range: every number of a scenario lies within "
                         f"±{MAX_MAGNITUDE:g} (docs/limits.md)")
    return value


_LIMITS_SCHEMA = {"minimum": -MAX_MAGNITUDE, "maximum": MAX_MAGNITUDE}

def _not_bool(value: Any) -> Any:
    # YAML's true/false would pass as 1.0 and 0.0: a switch written where a number is meant
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is not a number here (write a number, such as "
                         "0.1)")
    return value


# A finite float of at most MAX_MAGNITUDE in size: every number a scenario file holds.
Real = Annotated[float, BeforeValidator(_not_bool),
                 Field(allow_inf_nan=False, json_schema_extra=_LIMITS_SCHEMA),
                 AfterValidator(_bounded)]


def at_most(limit: int, what: str) -> list[Any]:
    """Metadata for ``Annotated[int, *at_most(limit, what)]``: a size limit of ``limits``,
    refused in the words every size limit uses and exported as the schema's maximum."""
    from negotiation_sim.config.limits import limit_text

    def check(value: int) -> int:
        if value > limit:
            raise ValueError(limit_text(what, limit, value))
        return value

    return [Field(json_schema_extra={"maximum": limit}), BeforeValidator(_not_bool),
            AfterValidator(check)]


def _not_bool(value: Any) -> Any:
    """A count is a number: ``true`` is refused, not read as 1."""
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {str(value).lower()}")
    return value


class _Dist(BaseModel):
    model_config = _STRICT

    def support(self) -> tuple[float, float]:
        """Smallest interval that holds every value the distribution can draw, in theory."""
        raise NotImplementedError

    def reach(self) -> tuple[float, float]:
        """Smallest interval that holds every value ``sample`` returns (finite)."""
        return self.support()

    def cdf(self, y: np.ndarray) -> np.ndarray:
        """``P(X <= y)``, elementwise (right-continuous)."""
        raise NotImplementedError

    def ppf(self, z: np.ndarray) -> np.ndarray:
        """The quantile function, ``cdf``'s inverse: the smallest ``y`` with
        ``P(X <= y) >= z``, elementwise (``z`` clipped to [0, 1]; exact for every
        distribution a scenario allows)."""
        z = np.clip(np.asarray(z, dtype=float), 0.0, 1.0)
        low, high = self.support()
        if low == high:
            return np.full(z.shape, float(low))
        return self._ppf(z)

    def _ppf(self, z: np.ndarray) -> np.ndarray:
        """``ppf`` where the support is an interval (``z`` in [0, 1] already)."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent draws as a float64 array."""
        raise NotImplementedError

    def sample_blocks(self, rngs: list[np.random.Generator], n: int,
                      at: np.ndarray | None = None) -> np.ndarray:
        """``n`` draws from each generator, joined: the same numbers as ``sample`` on each
        (a distribution whose draws transform uniforms transforms them all at once). ``at``:
        only these entries of the result are wanted (the generators draw as many numbers as
        ever; the rest need not be computed)."""
        out = np.concatenate([self.sample(rng, n) for rng in rngs]) if rngs else np.empty(0)
        return out if at is None else out[at]


MIN_WIDTH = 1e-200
"""The narrowest range a distribution may have (else 0: a fixed number). Narrower ranges hold
no meaning on the model's scales and make their CDFs divide by numbers near the smallest a float
holds (a uniform 2e-313 wide overflowed)."""


def _check_width(lo: float, hi: float) -> None:
    if 0 < hi - lo < MIN_WIDTH:
        raise ValueError(f"the range [{lo:g}, {hi:g}] is narrower than {MIN_WIDTH:g}: give a "
                         "fixed number instead")


class Uniform(_Dist):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: Real
    high: Real

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        _check_width(self.low, self.high)
        return self

    def support(self) -> tuple[float, float]:
        return self.low, self.high

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=n)

    def cdf(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        if self.high == self.low:
            return (y >= self.low).astype(float)
        return np.clip((y - self.low) / (self.high - self.low), 0.0, 1.0)

    def _ppf(self, z: np.ndarray) -> np.ndarray:
        return self.low + z * (self.high - self.low)


class Normal(_Dist):
    """Normal with mean and sd, truncated to [low, high] when bounds are given."""

    dist: Literal["normal"]
    mean: Real
    sd: Annotated[Real, Field(ge=0)]
    low: Real | None = None
    high: Real | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Normal:
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        if lo > hi:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        if self.sd == 0 and not lo <= self.mean <= hi:
            raise ValueError("with sd 0 the mean must lie within [low, high]")
        _check_width(lo, hi)
        if 0 < self.sd < MIN_WIDTH:
            raise ValueError(f"sd {self.sd:g} is below {MIN_WIDTH:g}: give a fixed number "
                             "instead (or sd 0)")
        return self

    def support(self) -> tuple[float, float]:
        if self.sd == 0:
            return self.mean, self.mean
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        return lo, hi

    def reach(self) -> tuple[float, float]:
        """The support, with an unbounded side ending ``NORMAL_REACH_SD`` sd beyond the mean
        (or beyond the other bound, when the distribution lies wholly on that side of it)."""
        if self.sd == 0:
            return self.mean, self.mean
        far = NORMAL_REACH_SD * self.sd
        lo = min(self.mean, self.high if self.high is not None else math.inf) - far \
            if self.low is None else self.low
        hi = max(self.mean, self.low if self.low is not None else -math.inf) + far \
            if self.high is None else self.high
        return lo, hi

    def cdf(self, y: np.ndarray) -> np.ndarray:
        """The CDF at ``y``; defined everywhere (never NaN, never a RuntimeWarning).

        A point interval (``low == high``) and an interval so narrow or so far in a tail that
        ``ndtr`` cannot tell its ends apart are a step at ``low`` and a straight line across
        the interval (the density is flat there to float64 precision); an interval wholly more
        than ``TAIL`` sd from the mean is taken in log space, as ``sample`` does.
        """
        from scipy.special import ndtr

        y = np.asarray(y, dtype=float)
        if self.sd == 0:
            return (y >= self.mean).astype(float)
        lo_x, hi_x = self.support()
        if lo_x == hi_x:
            return (y >= lo_x).astype(float)
        lo = -np.inf if self.low is None else (self.low - self.mean) / self.sd
        hi = np.inf if self.high is None else (self.high - self.mean) / self.sd
        z = (np.clip(y, lo_x, hi_x) - self.mean) / self.sd
        if lo > TAIL:  # mirrored: the upper tail is the lower tail of -z
            return np.clip(1.0 - _lower_tail_cdf(-hi, -lo, -z), 0.0, 1.0)
        if hi < -TAIL:
            return _lower_tail_cdf(lo, hi, z)
        a, b = ndtr(lo), ndtr(hi)
        if not b > a:  # ends closer than ndtr resolves
            return np.clip((z - lo) / (hi - lo), 0.0, 1.0)
        return np.clip((ndtr(z) - a) / (b - a), 0.0, 1.0)

    def _ppf(self, z: np.ndarray) -> np.ndarray:
        from scipy.special import ndtr, ndtri

        lo, hi = (float(v) for v in self.support())
        a, b = ndtr((lo - self.mean) / self.sd), ndtr((hi - self.mean) / self.sd)
        return np.clip(self.mean + self.sd * ndtri(a + z * (b - a)), lo, hi)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.sample_blocks([rng], n)

    def sample_blocks(self, rngs: list[np.random.Generator], n: int,
                      at: np.ndarray | None = None) -> np.ndarray:
        if self.sd == 0:
            return np.full(n * len(rngs) if at is None else len(at), self.mean)
        lo, hi = self.reach()
        alpha, beta = (lo - self.mean) / self.sd, (hi - self.mean) / self.sd

        def uniforms(*bounds):
            u = np.concatenate([rng.uniform(*bounds, size=n) for rng in rngs])
            return u if at is None else u[at]

        if alpha > TAIL:  # wholly far above the mean: the mirror image of a lower tail
            z = -_lower_tail_quantile(-beta, -alpha, 1.0 - uniforms())
        elif beta < -TAIL:
            z = _lower_tail_quantile(alpha, beta, uniforms())
        else:
            # Inverse-CDF truncation: exact here, one uniform per draw, so streams never
            # depend on rejection.
            from scipy.special import ndtr, ndtri

            z = ndtri(uniforms(ndtr(alpha), ndtr(beta)))
        with np.errstate(over="ignore", invalid="ignore"):
            x = self.mean + self.sd * z
        return np.clip(np.nan_to_num(x, nan=lo, neginf=lo, posinf=hi), lo, hi)


TAIL = 5.0
"""A truncation interval wholly more than this many sd from the mean is sampled in log space:
there ``ndtr`` rounds to 0 or 1 (1 - ndtr(8) is below float64's resolution near 1), so plain
inverse-CDF sampling would draw the bound every time. Within it, plain inverse-CDF sampling is
exact to ~1e-9 sd and is kept, so draws there are the same as they always were."""


def _lower_tail_quantile(alpha: float, beta: float, u: np.ndarray) -> np.ndarray:
    """Quantiles ``u`` of a standard normal truncated to [alpha, beta], beta < 0, in log space.

    ``p = Phi(alpha) + u (Phi(beta) - Phi(alpha)) = Phi(beta) (1 - (1 - u)(1 - r))`` with
    ``r = Phi(alpha) / Phi(beta)``, taken in logs so that no probability underflows: exact for
    intervals as deep in the tail as a float64 bound can be.
    """
    from scipy.special import log_ndtr, ndtri_exp

    log_b = float(log_ndtr(beta))
    if not math.isfinite(log_b):  # deeper than even log-probabilities reach: all mass at beta
        return np.full(u.shape, beta)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        gap = -math.expm1(float(log_ndtr(alpha)) - log_b)  # 1 - r, in [0, 1]
        log_p = log_b + np.log1p(-(1.0 - u) * gap)
        return np.clip(ndtri_exp(log_p), alpha, beta)


def _lower_tail_cdf(alpha: float, beta: float, z: np.ndarray) -> np.ndarray:
    """CDF at ``z`` of a standard normal truncated to [alpha, beta], beta < -``TAIL``, in log
    space: ``(Phi(z) - Phi(alpha)) / (Phi(beta) - Phi(alpha))`` with every ``Phi`` a log, so
    nothing underflows to 0 / 0."""
    from scipy.special import log_ndtr

    log_a, log_b = float(log_ndtr(alpha)), float(log_ndtr(beta))
    if not math.isfinite(log_b) or log_b - log_a < 1e-300:  # beyond log reach, or a point
        return np.clip((z - alpha) / (beta - alpha), 0.0, 1.0)
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        log_z = log_ndtr(z)
        num = np.exp(log_z - log_b) * -np.expm1(np.minimum(log_a - log_z, 0.0))
        den = -math.expm1(log_a - log_b)
        out = num / den
    return np.clip(np.nan_to_num(out, nan=0.0), 0.0, 1.0)


class Beta(_Dist):
    """Beta(a, b) on [0, 1]."""

    dist: Literal["beta"]
    a: Annotated[Real, Field(gt=0)]
    b: Annotated[Real, Field(gt=0)]

    def support(self) -> tuple[float, float]:
        return 0.0, 1.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.beta(self.a, self.b, size=n)

    def cdf(self, y: np.ndarray) -> np.ndarray:
        from scipy.special import betainc

        return betainc(self.a, self.b, np.clip(np.asarray(y, dtype=float), 0.0, 1.0))

    def _ppf(self, z: np.ndarray) -> np.ndarray:
        from scipy.special import betaincinv

        return betaincinv(self.a, self.b, z)


def _square_share(d: np.ndarray, width: float, side: float) -> np.ndarray:
    """``d**2 / (width * side)``, a triangular CDF's tail area (0 where the side is empty).

    For ranges so narrow that ``width * side`` underflows to 0 (a side of 1e-294) the same
    share is taken as a product of two ratios, each in [0, 1], instead of dividing by 0."""
    if side <= 0:
        return np.zeros_like(d)
    denominator = width * max(side, 1e-300)
    if denominator > 0:
        return d ** 2 / denominator
    return (d / width) * (d / side)


class Triangular(_Dist):
    """Triangular on [low, high] with its peak at mode."""

    dist: Literal["triangular"]
    low: Real
    mode: Real
    high: Real

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(
                f"need low <= mode <= high, got {self.low}, {self.mode}, {self.high}"
            )
        _check_width(self.low, self.high)
        return self

    def support(self) -> tuple[float, float]:
        return self.low, self.high

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.low == self.high:
            return np.full(n, self.low)
        return rng.triangular(self.low, self.mode, self.high, size=n)

    def cdf(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        if self.high == self.low:
            return (y >= self.low).astype(float)
        a, c, b = self.low, self.mode, self.high
        yc = np.clip(y, a, b)
        left = _square_share(yc - a, b - a, c - a)
        right = 1.0 - _square_share(b - yc, b - a, b - c)
        return np.where(yc <= c, left, right)

    def _ppf(self, z: np.ndarray) -> np.ndarray:
        a, c, b = self.low, self.mode, self.high
        left = a + np.sqrt(z * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - z) * (b - a) * (b - c))
        return np.where(z <= (c - a) / (b - a), left, right)


class Choice(_Dist):
    """One of ``values``, with probabilities ``weights`` (equal when omitted)."""

    dist: Literal["choice"]
    values: list[Real] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0, le=1)]] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.weights is None:
            return self
        if len(self.weights) != len(self.values):
            raise ValueError(
                f"weights has {len(self.weights)} entries but values has {len(self.values)}"
            )
        if abs(sum(self.weights) - 1.0) > 1e-6:
            raise ValueError(f"weights must sum to 1 (they sum to {sum(self.weights):g})")
        return self

    def support(self) -> tuple[float, float]:
        return min(self.values), max(self.values)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        p = None if self.weights is None else np.asarray(self.weights) / sum(self.weights)
        return rng.choice(np.asarray(self.values, dtype=float), size=n, p=p)

    def cdf(self, y: np.ndarray) -> np.ndarray:
        values = np.asarray(self.values, dtype=float)
        weights = (np.full(values.size, 1.0 / values.size) if self.weights is None
                   else np.asarray(self.weights, dtype=float) / sum(self.weights))
        order = np.argsort(values, kind="stable")
        cum = np.concatenate([[0.0], np.cumsum(weights[order])])
        return cum[np.searchsorted(values[order], y, side="right")]

    def _ppf(self, z: np.ndarray) -> np.ndarray:
        values = np.asarray(self.values, dtype=float)
        weights = (np.ones(values.size) if self.weights is None
                   else np.asarray(self.weights, dtype=float))
        order = np.argsort(values, kind="stable")
        cum = np.cumsum(weights[order]) / weights.sum()
        return values[order][np.minimum(np.searchsorted(cum, z - 1e-12), values.size - 1)]


Distribution = Annotated[
    Union[Uniform, Normal, Beta, Triangular, Choice], Field(discriminator="dist")
]


def _kind(value: Any) -> str:
    """The tag of a ``Num``: a mapping when read from a file, a distribution's model when the
    validated value is serialized (without this a dump warned that a distribution was not the
    float it expected, and only pydantic's fallback wrote it right)."""
    return "distribution" if isinstance(value, (dict, _Dist)) else "number"


# A number, or a distribution to draw it from in each world.
Num = Annotated[
    Union[
        Annotated[Real, Tag("number")],
        Annotated[Distribution, Tag("distribution")],
    ],
    Discriminator(_kind),
]


def support(value: float | _Dist) -> tuple[float, float]:
    """The interval of values a fixed number or a distribution can take."""
    if isinstance(value, _Dist):
        return value.support()
    return float(value), float(value)


def reach(value: float | _Dist) -> tuple[float, float]:
    """The (finite) interval that holds every value drawn for a fixed number or a distribution."""
    if isinstance(value, _Dist):
        return value.reach()
    return float(value), float(value)


def in_range(
    lo: float = -math.inf,
    hi: float = math.inf,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> AfterValidator:
    """A validator that checks the whole support of a ``Num`` lies in the interval."""
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    text = f"{left}{lo:g}, {hi:g}{right}"

    def check(value: Any) -> Any:
        s_lo, s_hi = support(value)
        bad_lo = s_lo <= lo if lo_open else s_lo < lo
        bad_hi = s_hi >= hi if hi_open else s_hi > hi
        if bad_lo or bad_hi:
            what = "value" if not isinstance(value, _Dist) else "distribution's range"
            shown = f"{s_lo:g}" if s_lo == s_hi else f"[{s_lo:g}, {s_hi:g}]"
            raise ValueError(f"{what} {shown} must lie in {text}")
        return value

    check.bounds = (lo, hi, lo_open, hi_open)  # read by config.paths.field_range
    return AfterValidator(check)


Unit = Annotated[Num, in_range(0.0, 1.0)]
NonNeg = Annotated[Num, in_range(0.0)]
Positive = Annotated[Num, in_range(0.0, lo_open=True)]
Discount = Annotated[Num, in_range(0.0, 1.0, lo_open=True)]
Finite = Num


def draw(value: float | _Dist, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` values of a ``Num`` field: a fixed number repeated, or ``n`` draws."""
    if isinstance(value, _Dist):
        return value.sample(rng, n).astype(np.float64, copy=False)
    return np.full(n, float(value))


def draw_blocks(value: float | _Dist, rngs: list[np.random.Generator], n: int,
                at: np.ndarray | None = None) -> np.ndarray:
    """``draw(value, rng, n)`` for each generator, joined (the same numbers, at less cost);
    ``at``: only these entries of the result."""
    if isinstance(value, _Dist):
        return value.sample_blocks(rngs, n, at).astype(np.float64, copy=False)
    return np.full(n * len(rngs) if at is None else len(at), float(value))


def is_random(value: Any) -> bool:
    """Whether a ``Num`` field is a distribution (an uncertain input)."""
    return isinstance(value, _Dist)
