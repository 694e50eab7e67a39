"""One home per formula (issue 15): each named formula's body is written in exactly one module.

The test parses every module of the package (AST, not text) and looks for the *shape* of each formula,
whatever the variable names:

* Lloyd–Taylor term   ``1/(a − b) − 1/(c − d)``                    home: flux/respiration.py
* T0 of Lloyd–Taylor  the literal −46.02 °C or 227.13 K             home: flux/respiration.py
* VPD limitation      ``exp(−k·(v − v0))``                           home: flux/lightresponse.py
* rectangular hyperbola ``a·b·r / (a·r + b)``                        home: flux/lightresponse.py
* non-rectangular hyperbola ``sqrt(s·s − 4·θ·…)``                    home: flux/lightresponse.py
* saturation vapour pressure ``A·exp(B·T / (T + C))``                home: meteo.py
* Q10 from E0         ``exp(10·E0 / ((T − T0)(T + 10 − T0)))``       home: flux/respiration.py

Duplicates found outside the flux package are listed in ``KNOWN_DUPLICATES`` with the reason (reported
to the lead instead of edited); the test fails if a new duplicate appears anywhere, and also when a listed
duplicate has been removed (so the list shrinks with the code).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "lib" / "landcarbon"

HOMES = {
    "lloyd_taylor_term": "flux/respiration.py",
    "lloyd_taylor_t0": "flux/respiration.py",
    "vpd_limitation": "flux/lightresponse.py",
    "rectangular_hyperbola": "flux/lightresponse.py",
    "nonrectangular_hyperbola": "flux/lightresponse.py",
    "saturation_vapour_pressure": "meteo.py",
    "q10_from_e0": "flux/respiration.py",
}

#: duplicates outside flux/, reported to the lead (issue 15), with the reason they are still there
KNOWN_DUPLICATES = {
    "lloyd_taylor_term": {"world/demo.py": "demo world's er_true_model writes Lloyd-Taylor (E0 = 308.56 K) itself"},
    "lloyd_taylor_t0": {"world/demo.py": "demo world's own T0 = -46.02 constant"},
}


def _is_const(node, values) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and \
        any(abs(float(node.value) - v) < 1e-9 for v in values)


def _is_call(node, name: str) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    return (isinstance(f, ast.Attribute) and f.attr == name) or (isinstance(f, ast.Name) and f.id == name)


def _sub(node) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub)


def _mul_factors(node) -> list:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _mul_factors(node.left) + _mul_factors(node.right)
    return [node]


def _lt_term(n) -> bool:  # 1/(a - b) - 1/(c - d)
    return (_sub(n) and all(isinstance(s, ast.BinOp) and isinstance(s.op, ast.Div) and _is_const(s.left, (1.0,))
                            and _sub(s.right) for s in (n.left, n.right)))


def _t0(n) -> bool:
    return _is_const(n, (-46.02, 227.13)) or (isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub)
                                              and _is_const(n.operand, (46.02,)))


def _vpd_lim(n) -> bool:  # exp(-k * (v - v0))
    if not (_is_call(n, "exp") and n.args):
        return False
    a = n.args[0]
    if isinstance(a, ast.UnaryOp) and isinstance(a.op, ast.USub):
        a = a.operand
        facs = _mul_factors(a)
        return len(facs) == 2 and any(_sub(f) for f in facs)
    facs = _mul_factors(a)
    return len(facs) == 2 and any(isinstance(f, ast.UnaryOp) and isinstance(f.op, ast.USub) for f in facs) \
        and any(_sub(f) for f in facs)


def _rect(n) -> bool:  # a*b*r / (a*r + b): the denominator's terms are made of the numerator's factors
    if not (isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div)):
        return False
    num, den = n.left, n.right
    if len(_mul_factors(num)) != 3 or not (isinstance(den, ast.BinOp) and isinstance(den.op, ast.Add)):
        return False
    fac = [ast.dump(f) for f in _mul_factors(num)]
    for prod, single in ((den.left, den.right), (den.right, den.left)):
        pf = [ast.dump(f) for f in _mul_factors(prod)]
        if len(pf) == 2 and all(f in fac for f in pf) and ast.dump(single) in fac and \
                sorted(pf + [ast.dump(single)]) == sorted(fac):
            return True
    return False


def _nonrect(n) -> bool:  # sqrt(s*s - 4*theta*...)
    if not (_is_call(n, "sqrt") and n.args):
        return False
    a = n.args[0]
    if _is_call(a, "max") or _is_call(a, "maximum"):
        a = a.args[0]
    return _sub(a) and any(_is_const(f, (4.0,)) for f in _mul_factors(a.right))


def _svp(n) -> bool:  # A * exp(B * T / (T + C))
    if not (_is_call(n, "exp") and n.args):
        return False
    a = n.args[0]
    return isinstance(a, ast.BinOp) and isinstance(a.op, ast.Div) and isinstance(a.right, ast.BinOp) and \
        isinstance(a.right.op, ast.Add) and len(_mul_factors(a.left)) == 2


def _q10(n) -> bool:  # exp(10 * e0 / ((t - t0) * (t + 10 - t0)))
    if not (_is_call(n, "exp") and n.args):
        return False
    a = n.args[0]
    return isinstance(a, ast.BinOp) and isinstance(a.op, ast.Div) and any(_is_const(f, (10.0,)) for f in _mul_factors(a.left)) \
        and len(_mul_factors(a.right)) == 2


PATTERNS = {"lloyd_taylor_term": _lt_term, "lloyd_taylor_t0": _t0, "vpd_limitation": _vpd_lim,
            "rectangular_hyperbola": _rect, "nonrectangular_hyperbola": _nonrect,
            "saturation_vapour_pressure": _svp, "q10_from_e0": _q10}


def _modules():
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.fixture(scope="module")
def found():
    out = {k: set() for k in PATTERNS}
    for p in _modules():
        tree = ast.parse(p.read_text(encoding="utf-8"))
        rel = p.relative_to(PKG).as_posix()
        for node in ast.walk(tree):
            for name, pat in PATTERNS.items():
                if pat(node):
                    out[name].add(rel)
    return out


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_each_formula_has_one_home(found, name):
    mods = found[name]
    assert HOMES[name] in mods, f"{name}: the home {HOMES[name]} no longer holds the formula (pattern too narrow?)"
    extra = mods - {HOMES[name]} - set(KNOWN_DUPLICATES.get(name, {}))
    assert not extra, f"{name} is also written in {sorted(extra)}: import it from {HOMES[name]} instead"
    gone = set(KNOWN_DUPLICATES.get(name, {})) - mods
    assert not gone, f"{name}: {sorted(gone)} no longer duplicates it; remove it from KNOWN_DUPLICATES"


def test_patterns_recognise_the_formulas():
    """The matchers are not vacuous: each recognises its formula written with other names."""
    samples = {"lloyd_taylor_term": "1.0 / (tr - z) - 1.0 / (t - z)", "lloyd_taylor_t0": "x = -46.02",
               "vpd_limitation": "np.exp(-kk * (v - v0))", "rectangular_hyperbola": "a * b * r / (a * r + b)",
               "nonrectangular_hyperbola": "np.sqrt(s * s - 4.0 * th * a * r * b)",
               "saturation_vapour_pressure": "6.1 * np.exp(17.6 * t / (t + 243.0))",
               "q10_from_e0": "np.exp(10.0 * e / ((t - t0) * (t + 10.0 - t0)))"}
    for name, code in samples.items():
        assert any(PATTERNS[name](n) for n in ast.walk(ast.parse(code))), name
    assert not any(_rect(n) for n in ast.walk(ast.parse("al * al * rg * rg / (den * den)")))  # a derivative
    assert not any(_rect(n) for n in ast.walk(ast.parse("b * x * x / (1.0 + c * x)")))  # a footprint shape


def _imports(path: Path) -> set[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {(n.module or "", a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}


def test_kernels_and_demo_import_the_homes():
    k = _imports(PKG / "flux" / "_kernels.py")
    for mod, name in (("respiration", "arrhenius_term_scalar"), ("respiration", "lloyd_taylor_scalar"),
                      ("lightresponse", "rectangular_hyperbola_grad"), ("lightresponse", "nonrectangular_hyperbola_grad"),
                      ("lightresponse", "vpd_limitation_scalar")):
        assert (mod, name) in k, f"_kernels.py should import {name} from .{mod}"
    d = _imports(PKG / "flux" / "demo.py")
    for mod, name in (("respiration", "lloyd_taylor"), ("lightresponse", "rectangular_hyperbola"),
                      ("lightresponse", "vpd_limitation"), ("meteo", "saturation_vapour_pressure")):
        assert any(m.endswith(mod) and n == name for m, n in d), f"demo.py should import {name} from {mod}"
    # DT-RH uses the shared fitter, not the day-time method's internals
    r = _imports(PKG / "flux" / "dtrh.py")
    assert not any(m == "daytime" for m, n in r), "DT-RH imports the day-time method's module"
    assert ("lightresponse", "fit_lrc_windows") in r


_FORBIDDEN = re.compile(r"helper [A-Z]\b|helper A's|science brief|seed study|CONTRACTS\.md|DESIGN\.md|"
                        r"helpers/|\bseed 00\d", re.IGNORECASE)
_PATHLIKE = re.compile(r"(?<![\w./-])((?:[\w-]+/)*[\w-]+\.(?:md|py|yaml|csv|txt|ipynb))\b")


def test_flux_docstrings_name_only_files_that_exist():
    """Docstrings and comments of the flux package name no internal documents and only existing files."""
    root = PKG.parents[1]
    for p in sorted((PKG / "flux").rglob("*.py")):
        text = p.read_text(encoding="utf-8")
        m = _FORBIDDEN.search(text)
        assert m is None, f"{p.relative_to(root)} mentions {m.group(0)!r} (a file or vocabulary readers do not have)"
        for tok in _PATHLIKE.findall(text):
            if "/" not in tok:
                continue  # bare file names (data files, other repositories' modules) are not repository paths
            cands = [root / tok, PKG / tok, PKG / "flux" / tok, root / "lib" / tok]
            assert any(c.exists() for c in cands), f"{p.relative_to(root)} names {tok!r}, which does not exist here"
