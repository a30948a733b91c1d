#!/usr/bin/env python3
"""Writes tests/tasks/data/countdown_oracle_cases.jsonl: random completions scored
by the reference rules run in Python itself (re + eval), so the C++ reward can be
checked against the real thing, case for case. Not part of the build.

The rules restated here are those of the QES paper's code (see
include/qes/tasks/countdown.hpp for the sources): the completion is scored as
RESPONSE_PROMPT + completion, format on "<think>" + that, answer on that.

Usage: python3 make_countdown_oracle_cases.py [count] > data/countdown_oracle_cases.jsonl
"""
import json
import random
import re
import sys

RESPONSE_PROMPT = "Let me solve this step by step.\n<think>"


def format_score(text):
    if re.match(r"^<think>.*?<\/think>\n<answer>.*?<\/answer>$", text, re.DOTALL):
        return 1.0
    score = 0.0
    if re.search(r"<think>.*?<\/think>", text, re.DOTALL):
        score += 0.1
    if re.search(r"<answer>.*?<\/answer>", text, re.DOTALL):
        score += 0.5
    return score


def answer_score(text, numbers, target):
    found = re.findall(r"<answer>(.*?)<\/answer>", text, re.DOTALL)
    if not found:
        return 0.0
    content = found[-1]
    if not content or not re.match(r"^[0-9+\-*/() ]+$", content):
        return 0.0
    if sorted(int(n) for n in re.findall(r"\d+", content)) != sorted(numbers):
        return 0.0
    try:
        value = eval(content, {"__builtins__": None}, {})  # the reference's own check
        return 1.0 if abs(float(value) - float(target)) < 1e-5 else 0.0
    except Exception:
        return 0.0


def random_expression(rng, numbers):
    pool = [str(n) for n in numbers]
    rng.shuffle(pool)
    while len(pool) > 1:
        a = pool.pop(rng.randrange(len(pool)))
        b = pool.pop(rng.randrange(len(pool)))
        op = rng.choice(["+", "-", "*", "/", "+", "-", "*", "/", "//", "**"])
        if op == "**" and not (b.isdigit() and int(b) <= 9):
            op = "*"  # huge powers take Python hours: only small plain exponents
        sa = f"({a})" if rng.random() < 0.5 else a
        sb = f"({b})" if rng.random() < 0.5 else b
        pool.append(f"{sa}{rng.choice(['', ' '])}{op}{rng.choice(['', ' '])}{sb}")
    return pool[0]


def mutate(rng, expr, numbers):
    kind = rng.randrange(12)
    if kind == 0:
        return expr + rng.choice(["+", "*", "-", "/"])          # trailing operator
    if kind == 1:
        return "(" + expr                                       # unbalanced
    if kind == 2:
        return expr + ")"
    if kind == 3:
        return expr.replace(str(numbers[0]), str(numbers[0] + 1), 1)  # wrong number
    if kind == 4:
        return expr + " + " + str(numbers[-1])                  # reused number
    if kind == 5:
        return expr + rng.choice(["\n", "\n\n", " \n", "\t"])   # whitespace tails
    if kind == 6:
        return rng.choice(["−", "×", "÷", "x", "=", "=" + str(rng.randrange(100)), "é", "\u00a0"]) + expr
    if kind == 7:
        return expr + " / 0" if rng.random() < 0.5 else expr + " / (1 - 1)"
    if kind == 8:
        return "0" + expr if expr[0].isdigit() else expr        # leading zero literal
    if kind == 9:
        return "-" + expr if rng.random() < 0.5 else "+(" + expr + ")"
    if kind == 10:
        return expr.replace(" ", "", 3)
    return expr


def random_completion(rng, numbers, target, solution):
    if solution is not None and rng.random() < 0.5:
        expr = solution
    else:
        expr = random_expression(rng, numbers)
    if rng.random() < 0.5:
        expr = mutate(rng, expr, numbers)
    think = rng.choice(["", "I try things.", "5 + 3 = 8\nthen...", "<think>nested", "</answer>"])
    answer = f"<answer>{rng.choice(['', ' '])}{expr}{rng.choice(['', ' ', chr(10)])}</answer>"
    parts = [
        f"{think}</think>\n{answer}",
        f"{think}</think>\n{answer}\n",
        f"{think}</think>\n{answer}\n\n",
        f"{think}</think>{answer}",
        f"{think}</think> \n{answer}",
        f"{think}</think>\n{answer}<|im_end|>",
        f"{think}</think>\n<answer>1 + 2</answer> and then {answer}",
        f"{think}</think>\n{answer} trailing words",
        f"{think}\n{answer}",
        f"{think}</think>\nno answer tags here",
        f"{think}",
        f"{answer}",
        f"{think}</think>\n<answer>{expr}",
        f"{think}</think>\n<answer><answer>{expr}</answer>",
        f"{think}</think>\n<answer>{expr}</answer></answer>",
        f"<think>{think}</think>\n{answer}",
        "",
    ]
    return rng.choice(parts)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
    rng = random.Random(20260223)
    with open(sys.argv[2] if len(sys.argv) > 2 else "/work/shared/data/countdown.json") as f:
        data = json.load(f)
    for _ in range(count):
        item = rng.choice(data)
        numbers, target = item["numbers"], item["target"]
        completion = random_completion(rng, numbers, target, item["solution"])
        response = RESPONSE_PROMPT + completion
        fmt = format_score("<think>" + response)
        ans = answer_score(response, numbers, target)
        print(json.dumps({"completion": completion, "numbers": numbers, "target": target,
                          "format": fmt, "answer": ans, "reward": fmt * 0.1 + ans}))


if __name__ == "__main__":
    main()
