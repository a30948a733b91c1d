#!/usr/bin/env python3
"""Writes tests/tasks/data/arithmetic_oracle_cases.jsonl: random expressions over the
Countdown answer alphabet (digits + - * / ( ) and spaces), each with what Python's
eval gives: the float value (repr, read back exactly) or the exception's type.
Checks qes's own evaluator against Python's semantics: true and floor division on
ints and floats, powers, unary signs, leading zeros, calls, empty tuples.
Not part of the build.

Usage: python3 make_arithmetic_oracle_cases.py [count] > data/arithmetic_oracle_cases.jsonl
"""
import json
import random
import sys


def number(rng):
    return rng.choice(["0", "00", "1", "2", "3", "7", "10", "12", "25", "99", "100", "007", "05"])


def expression(rng, depth):
    if depth <= 0 or rng.random() < 0.25:
        return number(rng)
    kind = rng.randrange(6)
    if kind == 0:
        return rng.choice(["-", "+", "- ", "--"]) + expression(rng, depth - 1)
    if kind == 1:
        return "(" + expression(rng, depth - 1) + ")"
    if kind == 2:
        # Small plain exponents only: Python's exact powers of big ints are slow.
        base = expression(rng, depth - 1)
        return f"{base}**{rng.choice(['0', '1', '2', '3', '-1', '-2', '(1/2)', '(-1)'])}"
    op = rng.choice(["+", "-", "*", "/", "//"])
    space = rng.choice(["", " "])
    return expression(rng, depth - 1) + space + op + space + expression(rng, depth - 1)


def corrupt(rng, text):
    kind = rng.randrange(8)
    if kind == 0:
        return text + rng.choice(["+", "*", "/", "-", "**", "//"])
    if kind == 1:
        return "(" + text
    if kind == 2:
        return text + ")"
    if kind == 3:
        return text + "(2)"
    if kind == 4:
        return "()" + rng.choice(["", "+1", "*2"])
    if kind == 5:
        return text.replace("*", "* *", 1)
    if kind == 6:
        return text + " 3"
    return text + "\n"


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rng = random.Random(7)
    for _ in range(count):
        text = expression(rng, rng.randrange(1, 6))
        if rng.random() < 0.3:
            text = corrupt(rng, text)
        try:
            value = float(eval(text, {"__builtins__": None}, {}))
            case = {"expr": text, "ok": True, "value": repr(value)}
        except Exception as e:  # the reference maps every exception to reward 0
            case = {"expr": text, "ok": False, "error": type(e).__name__}
        print(json.dumps(case))


if __name__ == "__main__":
    main()
