#!/usr/bin/env python3
"""Pre-trains qes's embedded tiny Countdown model from scratch.

Input: Countdown problems in the QES paper's JSON format, made by qes's own generator
(`qes countdown-data`), so the model learns on the distribution qes trains and scores.
Each problem becomes one transcript: the exact ChatML prompt qes renders for Countdown
(system + user text, then the assistant turn) followed by a completion

    <think> a short search: a few tried combinations, most failing, the last one reaching
    the target </think>
    <answer> EXPR </answer><|im_end|>

which is what the reward's format regex wants (see include/qes/tasks/countdown.hpp).

Steps:
 1. trains a small byte-level BPE tokenizer on the transcripts (tokenizers; Qwen2's
    pre-tokenizer regex; <|endoftext|> <|im_start|> <|im_end|> as special tokens);
 2. pre-trains a small Qwen2ForCausalLM from scratch, loss on the completion only;
 3. every --eval-every steps decodes held-out problems greedily and scores them with the
    paper's reward; stops once the model is too good (the point is a deliberately
    under-trained base model, 3-20% accuracy, that QES can improve), and keeps the
    checkpoint whose accuracy is closest to --target-accuracy with the answer format
    produced at least --min-format of the time;
 4. saves model.safetensors + config.json (save_pretrained), tokenizer.json,
    tokenizer_check.json (texts and the ids the Hugging Face tokenizer gives them:
    `qes convert` checks its own tokenizer against them) and train_report.json.

Everything random comes from --seed (data order, failed attempts, initialisation); the GPU's
floating-point reductions may still change the last bits between machines.

Requires torch, transformers >= 5 (rope_theta lives in config.rope_parameters) and tokenizers.
"""
import argparse
import gzip
import json
import os
import random
import re
import shutil
import sys
import time
from fractions import Fraction

SYSTEM_MESSAGE = (
    "You are a helpful assistant. You first think about the reasoning process in your mind "
    "and then provide the user with the answer."
)
# What the reference prepends to every completion before scoring it.
RESPONSE_PROMPT = "Let me solve this step by step.\n<think>"
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Qwen2's pre-tokenizer (its tokenizer.json's Split pattern): single digits, words with one
# leading non-letter, punctuation runs with their newlines, whitespace runs.
QWEN2_PRETOKENIZER_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------- prompts and reward


def user_message(numbers, target):
    """The reference's USER_TEMPLATE (src/tasks/countdown_prompt.cpp)."""
    return (
        f"Using the numbers {list(numbers)}, create an equation that equals {target}. "
        "You can use basic arithmetic operations (+, -, *, /) and each number can only be used once. "
        "Show your work in <think> </think> tags. "
        "And return the final answer in <answer> </answer> tags, for example <answer> (1 + 2) / 3 </answer>."
    )


def prompt_text(numbers, target):
    """ChatML as qes renders it (render_chatml in src/tasks/chatml.cpp): no prefill."""
    return (
        f"<|im_start|>system\n{SYSTEM_MESSAGE}<|im_end|>\n"
        f"<|im_start|>user\n{user_message(numbers, target)}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


FORMAT_RE = re.compile(r"^<think>.*?</think>\n<answer>.*?</answer>$", re.DOTALL)
THINK_RE = re.compile(r"<think>.*?</think>", re.DOTALL)
ANSWER_RE = re.compile(r"<answer>.*?</answer>", re.DOTALL)
ANSWER_CONTENT_RE = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
ANSWER_CHARS_RE = re.compile(r"^[0-9+\-*/() ]+$")


def format_reward(text):
    if FORMAT_RE.match(text):
        return 1.0
    r = 0.0
    if THINK_RE.search(text):
        r += 0.1
    if ANSWER_RE.search(text):
        r += 0.5
    return r


class _Parser:
    """+ - * / ( ) with unary signs, evaluated in Python floats left to right as Python's
    eval would (the reference evaluates the answer with eval; we never eval text)."""

    def __init__(self, text):
        self.toks = re.findall(r"\d+|[-+*/()]", text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self):
        t = self.peek()
        self.i += 1
        return t

    def expr(self):
        v = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            r = self.term()
            v = v + r if op == "+" else v - r
        return v

    def term(self):
        v = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()
            r = self.unary()
            v = v * r if op == "*" else v / r
        return v

    def unary(self):
        if self.peek() in ("+", "-"):
            op = self.take()
            v = self.unary()
            return v if op == "+" else -v
        t = self.take()
        if t == "(":
            v = self.expr()
            if self.take() != ")":
                raise ValueError("missing )")
            return v
        if t is None or not t.isdigit():
            raise ValueError("expected a number")
        return float(int(t))


def evaluate(expr):
    if "**" in expr or "//" in expr:
        raise ValueError("operators outside + - * /")
    p = _Parser(expr)
    v = p.expr()
    if p.peek() is not None:
        raise ValueError("trailing text")
    return v


def answer_reward(response, numbers, target):
    found = ANSWER_CONTENT_RE.findall(response)
    if not found:
        return 0.0
    ans = found[-1]
    if not ans or not ANSWER_CHARS_RE.match(ans):  # Python's $ admits one final newline, as the reference's
        return 0.0
    if sorted(int(n) for n in re.findall(r"\d+", ans)) != sorted(numbers):
        return 0.0
    try:
        return 1.0 if abs(evaluate(ans) - float(target)) < 1e-5 else 0.0
    except (ValueError, ZeroDivisionError, IndexError):
        return 0.0


def score_completion(completion, numbers, target):
    """qes's score_completion: the reference's reward on RESPONSE_PROMPT + completion."""
    response = RESPONSE_PROMPT + completion
    fmt = format_reward("<think>" + response)
    ans = answer_reward(response, numbers, target)
    return 0.1 * fmt + ans, fmt, ans


# ---------------------------------------------------------------- transcripts


def parse_solution(text):
    """The generator's fully parenthesized solution "((44 + 19) + 35)" as a tree:
    an int, or (op, left, right)."""
    toks = re.findall(r"\d+|[-+*/()]", text)
    pos = 0

    def node():
        nonlocal pos
        t = toks[pos]
        pos += 1
        if t == "(":
            left = node()
            op = toks[pos]
            pos += 1
            right = node()
            if toks[pos] != ")":
                raise ValueError(f"bad solution {text!r}")
            pos += 1
            return (op, left, right)
        return int(t)

    tree = node()
    if pos != len(toks):
        raise ValueError(f"bad solution {text!r}")
    return tree


def apply(op, a, b):
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b if b != 0 else None


def show(v):
    """A value in the trace: integers as integers, fractions as short decimals."""
    if v.denominator == 1:
        return str(v.numerator)
    return f"{float(v):.3f}".rstrip("0").rstrip(".")


def solution_steps(tree):
    """Post-order steps "a op b = c" of the tree, and its value."""
    steps = []

    def walk(n):
        if isinstance(n, int):
            return Fraction(n)
        op, l, r = n
        a, b = walk(l), walk(r)
        v = apply(op, a, b)
        steps.append(f"{show(a)} {op} {show(b)} = {show(v)}")
        return v

    value = walk(tree)
    return steps, value


PREC = {"+": 1, "-": 1, "*": 2, "/": 2}


def infix(n, parent_prec=0, right_of=None):
    """The tree with only the parentheses it needs."""
    if isinstance(n, int):
        return str(n)
    op, l, r = n
    s = f"{infix(l, PREC[op])} {op} {infix(r, PREC[op], op)}"
    need = PREC[op] < parent_prec or (PREC[op] == parent_prec and right_of in ("-", "/"))
    return f"({s})" if need else s


def failed_attempt(numbers, target, rng):
    """A random full reduction of the numbers (pick two, combine, put back) that misses
    the target: exact divisions only, larger minus smaller, so the trace stays readable."""
    for _ in range(20):
        pool = [Fraction(x) for x in numbers]
        steps = []
        while len(pool) > 1:
            i, j = rng.sample(range(len(pool)), 2)
            a, b = pool[i], pool[j]
            op = rng.choice("+-*/")
            if op == "-" and a < b:
                a, b = b, a
            if op == "/":
                if b == 0 or (a / b).denominator != 1:
                    if a != 0 and (b / a).denominator == 1:
                        a, b = b, a
                    else:
                        op = "+"
            v = apply(op, a, b)
            steps.append(f"{show(a)} {op} {show(b)} = {show(v)}")
            pool = [p for k, p in enumerate(pool) if k not in (i, j)] + [v]
        if pool[0] != target:
            return ", ".join(steps) + " (no)"
    return None


def completion_text(problem, rng, max_failed, equals_rate=0.0):
    tree = parse_solution(problem["solution"])
    steps, value = solution_steps(tree)
    target = Fraction(problem["target"])
    if value != target:
        raise ValueError(f"problem {problem['id']}: solution {problem['solution']} gives {value}, not {target}")
    lines = []
    for _ in range(rng.choice(range(max_failed + 1))):
        a = failed_attempt(problem["numbers"], target, rng)
        if a:
            lines.append(a)
    lines.append(", ".join(steps) + " (yes)")
    answer = infix(tree)
    # A habit of instruct models the paper's reward scores 0: the answer with its value
    # appended ("... = 98"). Drawn only when asked for, so rate 0 keeps the old data stream.
    if equals_rate > 0 and rng.random() < equals_rate:
        answer += " = " + str(problem["target"])
    return "<think> " + "\n".join(lines) + " </think>\n<answer> " + answer + " </answer><|im_end|>"


# ---------------------------------------------------------------- data


def load_problems(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    for p in data:
        p["target"] = str(p["target"])
    return data


def train_tokenizer(texts, vocab_size):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_PRETOKENIZER_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,  # ids 0, 1, 2, as added special tokens
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
    return tok


# ---------------------------------------------------------------- model


def rope_theta_of(config):
    """transformers 4 keeps rope_theta on the config; 5 moved it into rope_parameters."""
    params = getattr(config, "rope_parameters", None)
    if isinstance(params, dict) and "rope_theta" in params:
        return params["rope_theta"]
    return config.rope_theta


def make_model(args, vocab_size, ids):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    # The same construction as tools/make_hf_reference.py on the model branch, which ran with
    # transformers 5.17: rope_theta is accepted as a keyword and lands in rope_parameters.
    # Eager attention: its additive mask keeps fully padded query rows finite (left padding in
    # the batched greedy evaluation), and at this size it costs nothing.
    config = Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=args.hidden,
        intermediate_size=args.ffn,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads,
        max_position_embeddings=args.context,
        rms_norm_eps=1e-6,
        rope_theta=args.rope_theta,
        tie_word_embeddings=True,
        use_sliding_window=False,
        attention_dropout=0.0,
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
        attn_implementation="eager",
    )
    if abs(rope_theta_of(config) - args.rope_theta) > 1e-6 * args.rope_theta:
        raise SystemExit(f"rope_theta {args.rope_theta} did not reach the config ({rope_theta_of(config)})")
    torch.manual_seed(args.seed)
    model = Qwen2ForCausalLM(config)
    return model.float(), config


def greedy_decode(model, prompts, max_new, stop_ids, pad_id, device, batch_size):
    """Greedy completions (token ids, stop token excluded) of many prompts at once: left
    padding, explicit positions, KV cache, float32 like qes's reference path."""
    import torch

    model.eval()
    results = [None] * len(prompts)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    stop = torch.tensor(sorted(stop_ids), device=device)
    with torch.no_grad():
        for s in range(0, len(order), batch_size):
            chunk = order[s : s + batch_size]
            B, L = len(chunk), max(len(prompts[i]) for i in chunk)
            ids = torch.full((B, L), pad_id, dtype=torch.long, device=device)
            mask = torch.zeros((B, L), dtype=torch.long, device=device)
            for row, i in enumerate(chunk):
                p = prompts[i]
                ids[row, L - len(p) :] = torch.tensor(p, device=device)
                mask[row, L - len(p) :] = 1
            pos = (mask.cumsum(-1) - 1).clamp(min=0)
            out = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True)
            past = out.past_key_values
            nxt = out.logits[:, -1].argmax(-1)
            gen = torch.full((B, max_new), -1, dtype=torch.long, device=device)
            done = torch.zeros(B, dtype=torch.bool, device=device)
            for t in range(max_new):
                done = done | torch.isin(nxt, stop)
                gen[:, t] = torch.where(done, torch.full_like(nxt, -1), nxt)
                if bool(done.all()) or t + 1 == max_new:
                    break
                mask = torch.cat([mask, torch.ones((B, 1), dtype=mask.dtype, device=device)], dim=1)
                pos = pos[:, -1:] + 1
                out = model(input_ids=nxt[:, None], attention_mask=mask, position_ids=pos, past_key_values=past, use_cache=True)
                past = out.past_key_values
                nxt = out.logits[:, -1].argmax(-1)
            for row, i in enumerate(chunk):
                g = gen[row].tolist()
                results[i] = g[: g.index(-1)] if -1 in g else g
    model.train()
    return results


def evaluate_model(model, tok, problems, args, device, stop_ids, pad_id):
    prompts = [tok.encode(prompt_text(p["numbers"], p["target"])).ids for p in problems]
    outs = greedy_decode(model, prompts, args.max_new_tokens, stop_ids, pad_id, device, args.eval_batch)
    n_correct = n_format = n_equals = n_correct_stripped = 0
    reward = 0.0
    samples = []
    for p, o in zip(problems, outs):
        text = tok.decode(o, skip_special_tokens=False)
        r, fmt, ans = score_completion(text, p["numbers"], p["target"])
        reward += r
        n_correct += ans > 0
        n_format += fmt == 1.0
        answers = ANSWER_CONTENT_RE.findall(RESPONSE_PROMPT + text)
        if answers and "=" in answers[-1]:
            # What the answer would score without its " = value" tail: the capability
            # that an answer-format fix (QES's job here) can unlock.
            n_equals += 1
            head = answers[-1].split("=")[0]
            n_correct_stripped += answer_reward("<answer>" + head + "</answer>", p["numbers"], p["target"]) > 0
        else:
            n_correct_stripped += ans > 0
        if len(samples) < 8:
            samples.append({"numbers": p["numbers"], "target": p["target"], "completion": text, "reward": r})
    n = max(len(problems), 1)
    return {"accuracy": n_correct / n, "format_rate": n_format / n, "mean_reward": reward / n, "n": len(problems),
            "equals_rate": n_equals / n, "accuracy_without_equals": n_correct_stripped / n, "samples": samples}


# ---------------------------------------------------------------- main


def save_candidate(model, tok, ev, step, args):
    """Writes one evaluated step as a loadable Hugging Face folder (weights in --save-dtype)."""
    import copy
    import torch
    d = os.path.join(args.candidates_dir, f"step-{step:05d}")
    snapshot = copy.deepcopy(model).to(getattr(torch, args.save_dtype))
    snapshot.save_pretrained(d)
    del snapshot
    tok.save(os.path.join(d, "tokenizer.json"))
    shutil.copy(os.path.join(args.out, "tokenizer_check.json"), d)
    with open(os.path.join(d, "validation.json"), "w", encoding="utf-8") as f:
        json.dump({"step": step, **{k: v for k, v in ev.items() if k != "samples"}}, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="training problems (paper JSON, .json or .json.gz) from `qes countdown-data`")
    ap.add_argument("--test", help="held-out problems for the final report (e.g. the paper's countdown.json)")
    ap.add_argument("--test-skip", type=int, default=200, help="skip this many problems of --test (the paper's train split)")
    ap.add_argument("--test-count", type=int, default=500)
    ap.add_argument("--valid-count", type=int, default=256, help="last problems of --data held out to pick the step")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--vocab-size", type=int, default=1024)
    ap.add_argument("--tokenizer-texts", type=int, default=20000, help="transcripts the tokenizer is trained on")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=768)
    ap.add_argument("--context", type=int, default=1024, help="max_position_embeddings (qes's context length)")
    ap.add_argument("--rope-theta", type=float, default=10000.0)
    ap.add_argument("--max-len", type=int, default=384, help="longest transcript in tokens (longer ones are skipped)")
    ap.add_argument("--max-failed", type=int, default=3, help="failed attempts before the right one: uniform 0..N")
    ap.add_argument("--equals-rate", type=float, default=0.0,
                    help="share of transcripts whose answer ends with ' = <target>' (scored 0 by the paper's reward)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--max-steps", type=int, default=8000)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-batch", type=int, default=256)
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--target-accuracy", type=float, default=0.10,
                    help="validation accuracy to aim for (Q4_0 usually loses some: check with qes eval)")
    ap.add_argument("--accuracy-band", type=float, nargs=2, default=[0.03, 0.20], metavar=("LO", "HI"))
    ap.add_argument("--min-format", type=float, default=0.8, help="least share of completions in the full answer format")
    ap.add_argument("--equals-band", type=float, nargs=2, default=[0.0, 1.0], metavar=("LO", "HI"),
                    help="keep only steps whose share of ' = value' answers lies in this band (with --equals-rate)")
    ap.add_argument("--patience", type=int, default=2, help="stop after this many evaluations above the band")
    ap.add_argument("--time-budget", type=float, default=420.0, help="seconds of training before it stops anyway")
    ap.add_argument("--save-dtype", choices=["float32", "float16", "bfloat16"], default="float16",
                    help="dtype of model.safetensors (float16 keeps a 5M-parameter model under 16 MB)")
    ap.add_argument("--candidates-dir",
                    help="also save every evaluated step that passes the format and '= value' filters (and is not above "
                         "the accuracy band) to DIR/step-NNNNN, in --save-dtype with tokenizer.json, so the step can be "
                         "chosen by the accuracy of its quantized file (tools/tiny_model/pick_candidate.sh)")
    ap.add_argument("--transcripts-out", help="also write every training transcript (one JSON string per line)")
    args = ap.parse_args()

    import torch
    import torch.nn.functional as F
    import transformers

    t_start = time.time()
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    log(f"torch {torch.__version__}, transformers {transformers.__version__}, device {device}"
        + (f" ({torch.cuda.get_device_name(0)})" if device == "cuda" else ""))
    os.makedirs(args.out, exist_ok=True)

    problems = load_problems(args.data)
    if len(problems) <= args.valid_count:
        sys.exit(f"{args.data}: {len(problems)} problems, need more than --valid-count {args.valid_count}")
    valid = problems[-args.valid_count :]
    train = problems[: -args.valid_count]
    test = load_problems(args.test)[args.test_skip : args.test_skip + args.test_count] if args.test else []
    log(f"{len(train)} training problems, {len(valid)} validation, {len(test)} test")

    # 1. Transcripts and the tokenizer.
    rng = random.Random(args.seed)
    first = [prompt_text(p["numbers"], p["target"]) + completion_text(p, rng, args.max_failed) for p in train[: args.tokenizer_texts]]
    if args.transcripts_out:
        trng = random.Random(args.seed)
        with open(args.transcripts_out, "w", encoding="utf-8") as f:
            for p in train:
                f.write(json.dumps(prompt_text(p["numbers"], p["target"]) + completion_text(p, trng, args.max_failed)) + "\n")
    tok = train_tokenizer(first, args.vocab_size)
    vocab_size = tok.get_vocab_size()
    ids = {s: tok.token_to_id(s) for s in SPECIAL_TOKENS}
    log(f"tokenizer: {vocab_size} tokens, specials {ids}")
    tok.save(os.path.join(args.out, "tokenizer.json"))

    # Texts whose ids qes convert must reproduce with its own tokenizer.
    check_texts = first[:48] + [prompt_text(p["numbers"], p["target"]) for p in valid[:16]] + [
        "Hello world! It's 12345 apples,\n\n  and 3.14159 pears; I'LL  see\ttabs...",
        "<|im_start|>user\n(1 + 2) / 3 = 1<|im_end|>\n<|endoftext|>",
        "  leading spaces, trailing spaces   \n\n\nnewlines 99*98-97/96",
    ]
    check = [{"text": t, "ids": tok.encode(t).ids} for t in check_texts]
    with open(os.path.join(args.out, "tokenizer_check.json"), "w", encoding="utf-8") as f:
        json.dump(check, f, ensure_ascii=False)

    train_prompts = [ids_ for ids_ in (e.ids for e in tok.encode_batch([prompt_text(p["numbers"], p["target"]) for p in train]))]
    prompt_lens = sorted(len(p) for p in train_prompts)
    sample_lens = [len(tok.encode(t).ids) for t in first[:2000]]
    log(f"prompt tokens: median {prompt_lens[len(prompt_lens) // 2]}, max {prompt_lens[-1]}; "
        f"transcript tokens: median {sorted(sample_lens)[len(sample_lens) // 2]}, max {max(sample_lens)}")

    # 2. The model.
    model, config = make_model(args, vocab_size, ids)
    model.to(device)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: Qwen2 {args.layers} layers, hidden {args.hidden}, {args.heads} heads / {args.kv_heads} kv, ffn {args.ffn}, "
        f"{n_params / 1e6:.2f}M parameters (tied embeddings)")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / args.warmup))
    pad_id, stop_ids = ids["<|endoftext|>"], {ids["<|im_end|>"], ids["<|endoftext|>"]}

    def autocast():
        # bf16 matrix products on the GPU; the loss is taken in float32.
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device == "cuda")

    data_rng = random.Random(args.seed + 1)

    def batch():
        """A batch of fresh transcripts (the failed attempts are redrawn on every visit)."""
        seqs, masks = [], []
        while len(seqs) < args.batch:
            picks = [data_rng.randrange(len(train)) for _ in range(args.batch - len(seqs))]
            comps = tok.encode_batch([completion_text(train[i], data_rng, args.max_failed, args.equals_rate) for i in picks])
            for i, c in zip(picks, comps):
                p = train_prompts[i]
                if len(p) + len(c.ids) > args.max_len:
                    continue
                seqs.append(p + c.ids)
                masks.append([0] * len(p) + [1] * len(c.ids))
        L = max(len(s) for s in seqs)
        x = torch.full((len(seqs), L), pad_id, dtype=torch.long)
        att = torch.zeros((len(seqs), L), dtype=torch.long)
        lab = torch.full((len(seqs), L), -100, dtype=torch.long)
        for r, (s, m) in enumerate(zip(seqs, masks)):
            x[r, : len(s)] = torch.tensor(s)
            att[r, : len(s)] = 1
            lab[r, : len(s)] = torch.where(torch.tensor(m, dtype=torch.bool), torch.tensor(s), torch.tensor(-100))
        return x.to(device), att.to(device), lab.to(device)

    # 3. Training with periodic greedy evaluation.
    history = []
    best = None  # (distance to target, step, state_dict, eval)
    above = 0
    t_train = time.time()
    tokens_seen = 0
    step = 0
    model.train()
    while step < args.max_steps:
        x, att, lab = batch()
        with autocast():
            logits = model(input_ids=x, attention_mask=att).logits
        loss = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.size(-1)), lab[:, 1:].reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        tokens_seen += int(att.sum())
        if step % 50 == 0:
            el = time.time() - t_train
            log(f"step {step:5d}  loss {loss.item():.4f}  lr {sched.get_last_lr()[0]:.2e}  {tokens_seen / el:,.0f} tok/s  {el:.0f}s")
        out_of_time = time.time() - t_train > args.time_budget
        if step % args.eval_every == 0 or out_of_time or step == args.max_steps:
            ev = evaluate_model(model, tok, valid, args, device, stop_ids, pad_id)
            history.append({"step": step, "loss": loss.item(), "accuracy": ev["accuracy"], "format_rate": ev["format_rate"],
                            "mean_reward": ev["mean_reward"], "equals_rate": ev["equals_rate"],
                            "accuracy_without_equals": ev["accuracy_without_equals"], "seconds": time.time() - t_train})
            log(f"eval step {step}: accuracy {100 * ev['accuracy']:.1f}%  format {100 * ev['format_rate']:.1f}%  "
                f"mean reward {ev['mean_reward']:.3f}  '= value' answers {100 * ev['equals_rate']:.1f}% "
                f"(accuracy without them {100 * ev['accuracy_without_equals']:.1f}%)  (n={ev['n']})")
            lo, hi = args.accuracy_band
            if ev["format_rate"] >= args.min_format and args.equals_band[0] <= ev["equals_rate"] <= args.equals_band[1]:
                in_band = lo <= ev["accuracy"] <= hi
                dist = abs(ev["accuracy"] - args.target_accuracy) + (0 if in_band else 1)
                if best is None or dist < best[0]:
                    best = (dist, step, {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}, ev)
                if args.candidates_dir and ev["accuracy"] <= hi:
                    save_candidate(model, tok, ev, step, args)
            above = above + 1 if ev["accuracy"] > hi else 0
            if above >= args.patience:
                log(f"accuracy above {100 * hi:.0f}% for {above} evaluations: stopping")
                break
        if out_of_time:
            log(f"time budget of {args.time_budget:.0f}s reached: stopping")
            break
    train_seconds = time.time() - t_train

    if best is None:
        log(f"WARNING: no evaluation reached the answer format {100 * args.min_format:.0f}% of the time with a share of "
            f"'= value' answers in {args.equals_band}; keeping the last step")
        chosen_step, chosen_eval = step, history[-1]
    else:
        chosen_step, chosen_eval = best[1], best[3]
        model.load_state_dict(best[2])
        if best[0] >= 1:
            log(f"WARNING: no evaluation landed in the accuracy band {args.accuracy_band}; keeping the closest")
    log(f"chosen: step {chosen_step} (validation accuracy {100 * chosen_eval['accuracy']:.1f}%, "
        f"format {100 * chosen_eval['format_rate']:.1f}%)")

    # 4. Save in the chosen dtype and report what the saved weights do.
    save_dtype = getattr(torch, args.save_dtype)
    model.to(save_dtype)
    model.save_pretrained(args.out)
    model.float()  # the weights as saved, evaluated in float32
    # Left padding must not change what greedy decoding produces.
    probe = [tok.encode(prompt_text(p["numbers"], p["target"])).ids for p in valid[:8]]
    together = greedy_decode(model, probe, args.max_new_tokens, stop_ids, pad_id, device, len(probe))
    alone = [greedy_decode(model, [p], args.max_new_tokens, stop_ids, pad_id, device, 1)[0] for p in probe]
    log(f"batched vs one-by-one greedy decoding: {sum(a == b for a, b in zip(together, alone))}/{len(probe)} identical")
    final = {}
    if test:
        final = evaluate_model(model, tok, test, args, device, stop_ids, pad_id)
        log(f"test ({args.test}, problems {args.test_skip}..{args.test_skip + len(test) - 1}): "
            f"accuracy {100 * final['accuracy']:.1f}%  format {100 * final['format_rate']:.1f}%  "
            f"mean reward {final['mean_reward']:.3f}  '= value' answers {100 * final['equals_rate']:.1f}% "
            f"(accuracy without them {100 * final['accuracy_without_equals']:.1f}%)  (n={final['n']}, weights as saved in {args.save_dtype})")
    total = time.time() - t_start
    report = {
        "args": vars(args),
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "parameters": n_params,
        "vocab_size": vocab_size,
        "chosen_step": chosen_step,
        "chosen_validation": {k: v for k, v in chosen_eval.items() if k != "samples"},
        "validation_samples": chosen_eval.get("samples", []),
        "test": final,
        "history": history,
        "train_seconds": train_seconds,
        "total_seconds": total,
        "sample_transcripts": first[:5],
    }
    with open(os.path.join(args.out, "train_report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    log(f"saved {args.out}: model.safetensors, config.json, tokenizer.json, tokenizer_check.json, train_report.json")
    log(f"ran {total:.0f}s in all ({train_seconds:.0f}s training, {step} steps) on {report['device']}")


if __name__ == "__main__":
    main()
