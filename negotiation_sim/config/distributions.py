"""Numbers that may be uncertain: fixed values and the distributions a scenario can draw them from.

Any number in a scenario file may be written as a distribution (``{dist: uniform, low: 0, high: 1}``);
each simulated world draws its own value. This module owns the pydantic models of those
distributions, the ``Num`` field type that accepts a number or a distribution, range checks that
look at a distribution's whole support, and vectorised sampling from a numpy ``Generator``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

# Every model of a file users write: unknown fields are errors, values immutable, numbers finite.
STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
_STRICT = STRICT


class _Dist(BaseModel):
    model_config = _STRICT

    def support(self) -> tuple[float, float]:
        """Smallest interval that holds every value the distribution can draw."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent draws as a float64 array."""
        raise NotImplementedError


class Uniform(_Dist):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self

    def support(self) -> tuple[float, float]:
        return self.low, self.high

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=n)


class Normal(_Dist):
    """Normal with mean and sd, truncated to [low, high] when bounds are given."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(ge=0)
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Normal:
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        if lo > hi:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        if self.sd == 0 and not lo <= self.mean <= hi:
            raise ValueError("with sd 0 the mean must lie within [low, high]")
        return self

    def support(self) -> tuple[float, float]:
        if self.sd == 0:
            return self.mean, self.mean
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        return lo, hi

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        from scipy.special import ndtr, ndtri

        if self.sd == 0:
            return np.full(n, self.mean)
        lo, hi = self.support()
        # Inverse-CDF truncation: exact, one uniform per draw, so streams never depend on rejection.
        a = ndtr((lo - self.mean) / self.sd)
        b = ndtr((hi - self.mean) / self.sd)
        u = rng.uniform(a, b, size=n)
        x = self.mean + self.sd * ndtri(u)
        return np.clip(x, lo, hi)


class Beta(_Dist):
    """Beta(a, b) on [0, 1]."""

    dist: Literal["beta"]
    a: float = Field(gt=0)
    b: float = Field(gt=0)

    def support(self) -> tuple[float, float]:
        return 0.0, 1.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.beta(self.a, self.b, size=n)


class Triangular(_Dist):
    """Triangular on [low, high] with its peak at mode."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(
                f"need low <= mode <= high, got {self.low}, {self.mode}, {self.high}"
            )
        return self

    def support(self) -> tuple[float, float]:
        return self.low, self.high

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.low == self.high:
            return np.full(n, self.low)
        return rng.triangular(self.low, self.mode, self.high, size=n)


class Choice(_Dist):
    """One of ``values``, with probabilities ``weights`` (equal when omitted)."""

    dist: Literal["choice"]
    values: list[float] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.weights is None:
            return self
        if len(self.weights) != len(self.values):
            raise ValueError(
                f"weights has {len(self.weights)} entries but values has {len(self.values)}"
            )
        if any(w < 0 for w in self.weights):
            raise ValueError("weights must be >= 0")
        if abs(sum(self.weights) - 1.0) > 1e-6:
            raise ValueError(f"weights must sum to 1 (they sum to {sum(self.weights):g})")
        return self

    def support(self) -> tuple[float, float]:
        return min(self.values), max(self.values)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        p = None if self.weights is None else np.asarray(self.weights) / sum(self.weights)
        return rng.choice(np.asarray(self.values, dtype=float), size=n, p=p)


Distribution = Annotated[
    Union[Uniform, Normal, Beta, Triangular, Choice], Field(discriminator="dist")
]


def _kind(value: Any) -> str:
    return "distribution" if isinstance(value, dict) else "number"


# A number, or a distribution to draw it from in each world.
Num = Annotated[
    Union[
        Annotated[float, Tag("number"), Field(allow_inf_nan=False)],
        Annotated[Distribution, Tag("distribution")],
    ],
    Discriminator(_kind),
]


def support(value: float | _Dist) -> tuple[float, float]:
    """The interval of values a fixed number or a distribution can take."""
    if isinstance(value, _Dist):
        return value.support()
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


def is_random(value: Any) -> bool:
    """Whether a ``Num`` field is a distribution (an uncertain input)."""
    return isinstance(value, _Dist)
