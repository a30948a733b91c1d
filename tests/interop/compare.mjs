#!/usr/bin/env node
// GGUF files written by qes must load and generate in llama.cpp (issue 3 §1). For each case
// this runs `qes generate` (greedy) and tools/llamacpp_check/check.mjs (llama.cpp, greedy) on
// the same file and prompt and compares the texts.
//
//   node compare.mjs QES_BINARY SOURCE_DIR [SHARED_DATA_DIR]
//
// Cases: the embedded models (models/countdown-tiny-q8_0.gguf, -q4_0.gguf; qwen2, byte-level
// BPE) on a Countdown ChatML prompt; and, when the shared data folder is there, stories260K
// (llama, SPM) converted by `qes quantize` to f32, f16, q8_0, q4_0 and q4_1 in a temporary folder,
// from BOS.
// What must agree: the texts, or, for quantized files, the texts up to a token where llama.cpp's
// two most probable tokens were within kNearTie of each other (both engines quantize the
// activations to q8 blocks but round and sum in different orders, so a near-tie may go either
// way; a wrong file or a misread tensor gives a clear winner that qes did not pick). At such a
// token qes's text must go on with llama.cpp's second choice.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";

const [qes, sourceDir, sharedData] = process.argv.slice(2);
if (!qes || !sourceDir) {
  process.stderr.write("usage: node compare.mjs QES_BINARY SOURCE_DIR [SHARED_DATA_DIR]\n");
  process.exit(2);
}
const kNearTie = 0.05;  // probability gap between llama.cpp's top two tokens
const checkScript = path.join(sourceDir, "tools", "llamacpp_check", "check.mjs");

const countdownPrompt =
  "<|im_start|>system\nYou are a helpful assistant. You first think about the reasoning process in your mind " +
  "and then provide the user with the answer.<|im_end|>\n<|im_start|>user\nUsing the numbers [44, 19, 35], " +
  "create an equation that equals 98. You can use basic arithmetic operations (+, -, *, /) and each number can " +
  "only be used once. Show your work in <think> </think> tags. And return the final answer in <answer> </answer> " +
  "tags, for example <answer> (1 + 2) / 3 </answer>.<|im_end|>\n<|im_start|>assistant\n";

function run(file, args) {
  return execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
}

function qesGenerate(model, prompt, maxTokens) {
  const args = ["generate", "--model", model, "--temperature", "0", "--max-tokens", String(maxTokens), "--threads", "1"];
  if (prompt !== "") args.push("--prompt", prompt);
  const out = run(qes, args);
  return out.endsWith("\n") ? out.slice(0, -1) : out;  // qes generate ends the text with one newline
}

function llamaGenerate(model, prompt, maxTokens) {
  const args = [checkScript, model, "--max-tokens", String(maxTokens), "--json", "--probs"];
  if (prompt !== "") args.push("--prompt", prompt);
  try {
    return JSON.parse(run(process.execPath, args));
  } catch (err) {
    const parsed = err.stdout ? (() => { try { return JSON.parse(err.stdout); } catch { return null; } })() : null;
    if (parsed) return parsed;
    throw new Error(`check.mjs failed on ${model}: ${err.stderr || err.message}`);
  }
}

// Index of the first differing character, or -1 when equal.
function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function prepareCases(tmp) {
  const cases = [];
  for (const type of ["q8_0", "q4_0"]) {
    cases.push({ name: `countdown-tiny-${type}`, model: path.join(sourceDir, "models", `countdown-tiny-${type}.gguf`),
                 prompt: countdownPrompt, maxTokens: 64, exact: false });
  }
  if (sharedData && fs.existsSync(path.join(sharedData, "stories260K.bin"))) {
    for (const type of ["f32", "f16", "q8_0", "q4_0", "q4_1"]) {
      const out = path.join(tmp, `stories260K-${type}.gguf`);
      run(qes, ["quantize", path.join(sharedData, "stories260K.bin"), out, "--tokenizer",
                path.join(sharedData, "tok512.bin"), "--type", type]);
      cases.push({ name: `stories260K-${type} (qes quantize)`, model: out, prompt: "", maxTokens: 128,
                   exact: type.startsWith("f") });
    }
  } else {
    process.stdout.write(`note: no stories260K.bin in '${sharedData ?? ""}': stories260K cases left out\n`);
  }
  return cases;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "qes-interop-"));
let failures = 0;
try {
  for (const c of prepareCases(tmp)) {
    const llama = llamaGenerate(c.model, c.prompt, c.maxTokens);
    if (!llama.loaded) {
      failures++;
      process.stdout.write(`FAIL ${c.name}: llama.cpp does not load ${c.model}: ${llama.error}\n`);
      for (const line of llama.llama_log ?? []) process.stdout.write(`    ${line}\n`);
      continue;
    }
    const mine = qesGenerate(c.model, c.prompt, c.maxTokens);
    const at = firstDifference(mine, llama.text);
    let verdict = "texts equal";
    let ok = at < 0;
    if (at >= 0) {
      // The generated token whose text covers character `at`: the first one that differs.
      const token = llama.text_ends.findIndex((end) => end > at);
      const [best, second] = token >= 0 ? llama.top2[token] : [[-1, 0], [-1, 0]];
      const gap = best[1] - second[1];
      // qes must have taken llama.cpp's runner-up there: its text goes on with that token's text.
      const start = token > 0 ? llama.text_ends[token - 1] : 0;
      const runnerUp = token >= 0 ? llama.runner_up_texts[token] : "";
      const tookRunnerUp = token >= 0 && runnerUp !== "" && mine.startsWith(runnerUp, start);
      ok = !c.exact && token >= 0 && gap < kNearTie && tookRunnerUp;
      verdict = `first difference at character ${at} (generated token ${token}), where llama.cpp's top two were ` +
                `token ${best[0]} p=${best[1].toFixed(4)} and token ${second[0]} ${JSON.stringify(runnerUp)} p=${second[1].toFixed(4)}` +
                (c.exact ? " (a float file must match exactly)"
                 : gap >= kNearTie ? ` (gap >= ${kNearTie}: not a near-tie)`
                 : tookRunnerUp ? " (a near-tie; qes took the runner-up)" : " (qes did not take llama.cpp's runner-up)");
    }
    if (!ok) failures++;
    process.stdout.write(`${ok ? "ok  " : "FAIL"} ${c.name}: llama.cpp loads it (${llama.type}, vocab ${llama.vocabulary_type}); ` +
                         `${llama.tokens.length} tokens (${llama.finish}); ${verdict}\n`);
    if (at >= 0) process.stdout.write(`    qes:       ${JSON.stringify(mine)}\n    llama.cpp: ${JSON.stringify(llama.text)}\n`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failures === 0 ? 0 : 1);
