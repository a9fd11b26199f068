"""A safe arithmetic evaluator for the `calculate` tool.

Hand-written over `ast` because `eval` on model-written text is unsafe and no arithmetic-only evaluator
is among the project's dependencies; it accepts numbers, + - * /, unary signs and parentheses only.
"""

from __future__ import annotations

import ast
import operator

__all__ = ["evaluate_arithmetic"]

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_ALLOWED_CHARS = frozenset("0123456789+-*/(). ")


def evaluate_arithmetic(expression: str) -> float:
    """The value of ``expression``; raises `ValueError` (with the reason) on anything but arithmetic."""
    if not expression.strip():
        raise ValueError("empty expression")
    bad = sorted(set(expression) - _ALLOWED_CHARS)
    if bad:
        raise ValueError(f"invalid characters {''.join(bad)!r}; use numbers, + - * / and parentheses")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise ValueError("not a well-formed expression") from None
    return float(_eval(tree.body))


def _eval(node: ast.expr) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Div) and right == 0:
            raise ValueError("division by zero")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    raise ValueError("only numbers, + - * / and parentheses are allowed")
