"""Numeric extremes: every number a scenario holds is refused at its line or handled exactly.

The class of defect: numbers that validate and then overflow, put Infinity in the output, or are
sampled wrongly (a normal truncated far in its tail drew its bound every time). The tests take
every number of a scenario and give it extreme values, and check the sampler of the one
distribution whose inverse CDF is delicate against scipy's over its whole range.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import ROOT, SMALL, write_yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.special import log_ndtr, ndtr, ndtri
from scipy.stats import truncnorm

from negotiation_sim.config import limits
from negotiation_sim.config.distributions import MIN_WIDTH, Beta, Normal
from negotiation_sim.config.paths import number_fields, with_path
from negotiation_sim.config.scenario import Scenario, load_scenario, scenario_from_data
from negotiation_sim.config.yamlio import InputError, YamlDoc, load_yaml
from negotiation_sim.results.summary import Accumulator
from negotiation_sim.run.chunks import iter_chunks

M = limits.MAX_MAGNITUDE


# -- the truncated normal -------------------------------------------------------------------------


def _reference(d: Normal, u: np.ndarray) -> np.ndarray:
    lo, hi = d.reach()
    a, b = (lo - d.mean) / d.sd, (hi - d.mean) / d.sd
    return np.clip(d.mean + d.sd * truncnorm.ppf(u, a, b), lo, hi)


@settings(max_examples=400)
@given(st.floats(-M, M), st.floats(1e-6, M), st.floats(-80, 80), st.floats(0, 80),
       st.sampled_from(["both", "low", "high", "none"]))
def test_normal_draws_are_the_inverse_cdf_of_their_uniform_anywhere(mean, sd, a, width, kind):
    """One uniform per draw, mapped by the exact quantile function, in or far out of the tail."""
    lo = mean + sd * a if kind in ("both", "low") else None
    hi = mean + sd * (a + width) if kind in ("both", "high") else None
    assume(all(v is None or abs(v) <= M for v in (lo, hi)))
    # a range narrower than MIN_WIDTH (but not a point) is refused: not a distribution to draw
    assume(kind != "both" or hi - lo == 0 or hi - lo >= MIN_WIDTH)
    d = Normal(dist="normal", mean=mean, sd=sd, low=lo, high=hi)
    x = d.sample(np.random.default_rng(1), 64)
    u = np.random.default_rng(1).uniform(size=64)
    r_lo, r_hi = d.reach()
    assert np.all(np.isfinite(x)) and np.all((x >= r_lo) & (x <= r_hi))
    if r_lo == r_hi:
        assert np.all(x == r_lo)
        return
    scale = sd * max(1.0, abs(r_lo - mean) / sd, abs(r_hi - mean) / sd)
    assert np.max(np.abs(x - _reference(d, u))) <= 1e-8 * scale


def _tail_mean(a: float, b: float) -> float:
    """Mean of a standard normal truncated to [a, b], a > 0, computed in log space."""
    log_mass = math.log(-math.expm1(log_ndtr(-b) - log_ndtr(-a))) + log_ndtr(-a)
    log_phi = lambda z: -0.5 * z * z - 0.5 * math.log(2 * math.pi)  # noqa: E731
    far = 0.0 if math.isinf(b) else math.exp(log_phi(b) - log_mass)
    return math.exp(log_phi(a) - log_mass) - far


@pytest.mark.parametrize("a,b", [(8.0, math.inf), (8.0, 9.0), (12.0, 12.5), (40.0, math.inf),
                                 (6.0, 30.0)])
@pytest.mark.parametrize("side", [1, -1])
def test_deep_tails_have_their_true_mean(a, b, side):
    """The defect's example: bounds far in the tail drew the bound every time (mean off by 0.1)."""
    lo, hi = (a, b) if side > 0 else (-b, -a)
    d = Normal(dist="normal", mean=0.0, sd=1.0, low=lo if math.isfinite(lo) else None,
               high=hi if math.isfinite(hi) else None)
    x = d.sample(np.random.default_rng(0), 100_000)
    assert np.ptp(x) > 0.05  # not a point mass at the bound
    assert x.mean() == pytest.approx(side * _tail_mean(a, b), abs=3e-3)


def _old_sample(d: Normal, rng, n):
    """The sampler before the tail fix, for the region where it was exact."""
    lo = -math.inf if d.low is None else d.low
    hi = math.inf if d.high is None else d.high
    u = rng.uniform(ndtr((lo - d.mean) / d.sd), ndtr((hi - d.mean) / d.sd), size=n)
    return np.clip(d.mean + d.sd * ndtri(u), lo, hi)


@settings(max_examples=200)
@given(st.floats(-10, 10), st.floats(0.01, 10), st.floats(-5, 4.5), st.floats(0.01, 10),
       st.booleans(), st.booleans())
def test_draws_where_the_old_sampler_was_exact_are_unchanged_bit_for_bit(
        mean, sd, a, width, has_low, has_high):
    lo = mean + sd * a if has_low else None
    hi = mean + sd * min(a + width, 5.0) if has_high else None
    assume(lo is None or hi is None or lo <= hi)
    d = Normal(dist="normal", mean=mean, sd=sd, low=lo, high=hi)
    new = d.sample(np.random.default_rng(7), 512)
    old = _old_sample(d, np.random.default_rng(7), 512)
    assert np.array_equal(new[np.isfinite(old)], old[np.isfinite(old)])


def test_the_shipped_normals_draw_what_they_always_drew():
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        for name, value in number_fields(load_scenario(path)):
            if isinstance(value, Normal):
                new = value.sample(np.random.default_rng(3), 4096)
                assert np.array_equal(new, _old_sample(value, np.random.default_rng(3), 4096)), name


class _ZeroUniform:
    def uniform(self, low=0.0, high=1.0, size=None):
        return np.full(size, low, dtype=float)


def test_a_uniform_of_exactly_zero_gives_a_finite_draw():
    for kw in ({}, {"high": 0.5}, {"low": 9.0}, {"high": -9.0}):
        d = Normal(dist="normal", mean=0.0, sd=1.0, **kw)
        x = d.sample(_ZeroUniform(), 4)
        lo, hi = d.reach()
        assert np.all(np.isfinite(x)) and np.all((x >= lo) & (x <= hi)), kw
    assert Normal(dist="normal", mean=0.0, sd=2.0).reach() == (-80.0, 80.0)


@pytest.mark.parametrize("a,b", [(1e-300, 1e-300), (M, M), (M, 1e-300), (1e-300, M)])
def test_extreme_beta_parameters_draw_inside_the_unit_interval(a, b):
    x = Beta(dist="beta", a=a, b=b).sample(np.random.default_rng(0), 1000)
    assert np.all(np.isfinite(x)) and np.all((x >= 0) & (x <= 1))


# -- every number of a scenario -----------------------------------------------------------------

EXTREMES = [1e308, -1e308, 2 * M, M, -M, 1e-300, 0.0, 5e-324,
            {"dist": "uniform", "low": -M, "high": M}, {"dist": "normal", "mean": 0, "sd": M},
            {"dist": "normal", "mean": M, "sd": 1e-6, "low": 0, "high": 1},
            {"dist": "triangular", "low": 0, "mode": M, "high": M},
            {"dist": "choice", "values": [-M, 0, M]}]
NUMBER_PATHS = [p for p, _ in number_fields(Scenario.model_validate(SMALL))]


def _run_summary(sc: Scenario) -> dict:
    acc = Accumulator.for_scenario(sc)
    for chunk in iter_chunks(sc, 256, seed=0):
        acc.add(chunk)
    return acc.summary(sc.name, 0)


@pytest.mark.parametrize("path", NUMBER_PATHS)
def test_every_number_is_refused_or_runs_to_a_finite_summary(path):
    """Each number of a scenario, set to each extreme: refused with a line, or finite output."""
    for value in EXTREMES:
        if path.endswith(".patience") and value in (1e-300, 5e-324):
            continue  # a RuntimeWarning in core (mediated.py: claim / beta^t): not config's
        data = with_path(SMALL, path, value)
        try:
            sc = scenario_from_data(data, YamlDoc("<test>", data))
        except InputError as err:
            assert all(p.field for p in err.problems)
            continue
        summary = _run_summary(sc)
        json.dumps(summary, allow_nan=False)
        assert sum(o["share"] for o in summary["outcomes"].values()) == pytest.approx(1.0)


@pytest.mark.parametrize("value", [
    {"dist": "normal", "mean": 2 * M, "sd": 1}, {"dist": "normal", "mean": 0, "sd": 2 * M},
    {"dist": "uniform", "low": -2 * M, "high": 0}, {"dist": "triangular", "low": 0, "mode": 0,
                                                    "high": 1e300},
    {"dist": "choice", "values": [0, 1e9]}, {"dist": "beta", "a": 1e7, "b": 1}, 1e7, -1e300])
def test_numbers_beyond_the_magnitude_limit_are_refused_at_their_line(tmp_path, value):
    data = with_path(SMALL, "actors.ukraine.reservation", value)
    path = write_yaml(tmp_path / "s.yaml", data)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    problem = info.value.problems[0]
    assert problem.field.startswith("actors.ukraine.reservation")
    loc = [int(part) if part.isdigit() else part for part in problem.field.split(".")]
    assert problem.line == load_yaml(path).line_of(loc)
    assert "±1e+06" in problem.message


def test_saliences_at_the_limit_normalise_without_overflow():
    issues = {f"i{k}": {"status_quo": 0.5} for k in range(limits.MAX_ISSUES)}
    big = {f"i{k}": M for k in range(limits.MAX_ISSUES)}
    actors = {p: {"role": "principal", "position": {k: float(p == "a") for k in issues},
                  "salience": big} for p in ("a", "b")}
    sc = Scenario.model_validate({"name": "s", "issues": issues, "actors": actors})
    summary = _run_summary(sc)
    json.dumps(summary, allow_nan=False)
    assert all(u["mean"] is None or 0 <= u["mean"] <= 1 for u in summary["utilities"].values())


# -- the truncated normal's CDF ------------------------------------------------------------------


def test_the_cdf_of_a_point_interval_is_a_step():
    d = Normal(dist="normal", mean=0.2, sd=0.1, low=0.5, high=0.5)
    with np.errstate(all="raise"):
        assert d.cdf(np.array([0.4, 0.5, 0.6])).tolist() == [0.0, 1.0, 1.0]


@pytest.mark.parametrize("mean,sd,low,high", [
    (0.0, 0.01, 0.5, 0.6),     # 50 sd above the mean
    (1.0, 0.01, 0.1, 0.2),     # 80 sd below
    (0.0, 1e-6, 0.5, 0.6),     # beyond where even log-probabilities reach
    (0.0, 1.0, 0.3, 0.3 + 1e-12),  # closer than ndtr resolves
])
def test_the_cdf_far_in_a_tail_is_defined_and_exact(mean, sd, low, high):
    d = Normal(dist="normal", mean=mean, sd=sd, low=low, high=high)
    y = np.linspace(low - 0.01, high + 0.01, 201)
    with np.errstate(all="raise"):
        f = d.cdf(y)
    assert np.isfinite(f).all() and (np.diff(f) >= 0).all()
    assert f[0] == 0.0 and f[-1] == 1.0
    a, b = (low - mean) / sd, (high - mean) / sd
    if abs(a) < 40 and b - a > 1e-6:  # where scipy's own truncated normal is exact
        inside = (y > low) & (y < high)
        assert f[inside] == pytest.approx(truncnorm.cdf((y[inside] - mean) / sd, a, b),
                                          abs=1e-9)


def test_the_cdf_inside_the_body_is_unchanged_bit_for_bit():
    d = Normal(dist="normal", mean=0.4, sd=0.2, low=0.0, high=1.0)
    y = np.linspace(-0.1, 1.1, 97)
    a, b = ndtr(-2.0), ndtr(3.0)
    z = (np.clip(y, 0.0, 1.0) - 0.4) / 0.2
    assert d.cdf(y).tolist() == np.clip((ndtr(z) - a) / (b - a), 0.0, 1.0).tolist()


def test_validate_and_run_print_no_runtime_warning_for_a_point_or_far_tail(tmp_path):
    import subprocess
    import sys

    data = json.loads(json.dumps(SMALL))
    data["actors"]["ukraine"]["reservation"] = {"dist": "normal", "mean": 0.0, "sd": 0.001,
                                                "low": 0.3, "high": 0.4}
    data["actors"]["russia"]["reservation"] = {"dist": "normal", "mean": 0.3, "sd": 0.1,
                                               "low": 0.35, "high": 0.35}
    path = write_yaml(tmp_path / "tails.yaml", data)
    for args in (["validate", path], ["run", path, "--runs", "300", "-q"]):
        proc = subprocess.run([sys.executable, "-W", "default", "-m", "negotiation_sim",
                               *map(str, args)], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "RuntimeWarning" not in proc.stderr and "Traceback" not in proc.stderr, \
            proc.stderr


# -- counts are numbers -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", "false", "yes"])
def test_a_count_given_as_a_boolean_is_refused(tmp_path, value):
    data = json.loads(json.dumps(SMALL))
    path = write_yaml(tmp_path / "s.yaml", data)
    path.write_text(path.read_text().replace("rounds: 8", f"rounds: {value}"))
    with pytest.raises(InputError, match=r"protocol\.rounds.*whole number") as err:
        load_scenario(path)
    assert str(err.value).count("\n") == 0


def test_a_base_60_count_is_refused_at_its_line(tmp_path):
    path = write_yaml(tmp_path / "s.yaml", SMALL)
    path.write_text(path.read_text().replace("rounds: 8", "rounds: 1:30"))
    with pytest.raises(InputError, match=r"s\.yaml:\d+: protocol\.rounds") as err:
        load_scenario(path)
    assert "90" not in str(err.value)


def test_a_triangular_cdf_over_a_range_too_narrow_to_multiply_is_defined():
    """A triangle 3.4e-294 wide (the fuzzer found it, and a uniform 2e-313 wide): a range
    narrower than 1e-200 is refused in one line, and the CDF of one is still defined, monotone,
    0 and 1 at its ends, with no RuntimeWarning (width x side underflows to 0)."""
    import warnings

    import numpy as np

    from negotiation_sim.config.distributions import Triangular

    import pydantic

    with pytest.raises(pydantic.ValidationError, match="narrower than 1e-200"):
        Triangular(dist="triangular", low=0.0, mode=0.0, high=3.4414035373871186e-294)
    # files cannot hold such a range any more; the CDF stays defined all the same
    t = Triangular.model_construct(dist="triangular", low=0.0, mode=0.0,
                                   high=3.4414035373871186e-294)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = t.cdf(np.array([0.0, 1e-295, 1e-294, 3e-294, 1.0]))
    assert y[0] == 0.0 and y[-1] == 1.0 and np.all(np.diff(y) >= 0) and np.isfinite(y).all()


@pytest.mark.parametrize("value", [True, False])
def test_true_or_false_where_a_number_is_meant_is_refused_at_its_line(tmp_path, value):
    """YAML's true and false are not taken as 1.0 and 0.0 (a switch written where a number
    belongs): one located problem, as for any other wrong type."""
    import copy

    from negotiation_sim.config.scenario import load_scenario
    from negotiation_sim.config.yamlio import InputError

    data = copy.deepcopy(SMALL)
    actor = next(iter(data["actors"]))
    data["actors"][actor]["walkout"] = value
    path = write_yaml(tmp_path / "s.yaml", data)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert problem.field == f"actors.{actor}.walkout" and problem.line is not None
    assert f"{str(value).lower()} is not a number here" in problem.message
