#!/usr/bin/env node
// Loads a GGUF file in real llama.cpp (the prebuilt CPU binaries that the node-llama-cpp npm
// packages ship) and decodes greedily, so qes's GGUF writer can be checked against the engine
// its files are meant for. Prompt handling mirrors `qes generate`'s: control tokens written in
// the prompt are parsed, BOS is prepended when the vocabulary asks for it, an empty prompt
// starts from BOS alone, and decoding stops at an end-of-generation token or at BOS (as qes
// does; neither is printed).
//
//   node check.mjs MODEL.gguf [--prompt TEXT] [--max-tokens N] [--threads N] [--probs] [--json] [--quiet]
//
// stdout: llama.cpp's view of the model (its own print_info log lines: arch, n_params, vocab),
// then the prompt and generated token ids and the generated text. With --json, one JSON object
// instead. Exit 1 with llama.cpp's error messages when the file does not load.
import process from "node:process";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

function usage(message) {
  if (message) process.stderr.write(`check.mjs: ${message}\n`);
  process.stderr.write("usage: node check.mjs MODEL.gguf [--prompt TEXT] [--max-tokens N] [--threads N] [--probs] [--json] [--quiet]\n");
  process.exit(2);
}

function parseArgs(argv) {
  const a = { model: null, prompt: "", maxTokens: 32, threads: 1, probs: false, json: false, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--prompt" || arg === "-p") a.prompt = value();
    else if (arg === "--max-tokens" || arg === "-n") {
      a.maxTokens = Number.parseInt(value(), 10);
      if (!Number.isInteger(a.maxTokens) || a.maxTokens < 0) usage("--max-tokens must be a non-negative integer");
    } else if (arg === "--threads") {
      a.threads = Number.parseInt(value(), 10);
      if (!Number.isInteger(a.threads) || a.threads < 1) usage("--threads must be a positive integer");
    } else if (arg === "--probs") a.probs = true;
    else if (arg === "--json") a.json = true;
    else if (arg === "--quiet") a.quiet = true;
    else if (arg === "--help" || arg === "-h") usage();
    else if (arg.startsWith("-")) usage(`unknown option ${arg}`);
    else if (a.model === null) a.model = arg;
    else usage(`unexpected argument ${arg}`);
  }
  if (a.model === null) usage("no model given");
  return a;
}

// llama.cpp's log is the proof that it, not node-llama-cpp's own JS GGUF reader, parsed the
// metadata: keep its print_info lines (model summary) and everything at warn level or above.
function makeLogCollector() {
  const info = [];
  const problems = [];
  const logger = (level, message) => {
    const text = message.replace(/\s+$/, "");
    if (text === "") return;
    if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal || level === LlamaLogLevel.warn)
      problems.push(`${level}: ${text}`);
    else if (/^(print_info|llama_model_loader|load):/.test(text)) info.push(text);
  };
  return { info, problems, logger };
}

function promptTokens(model, text) {
  const tokens = text === "" ? [] : model.tokenize(text, true);
  const bos = model.tokens.bos;
  if (text !== "" && model.tokens.shouldPrependBosToken && bos !== null && tokens[0] !== bos) tokens.unshift(bos);
  if (tokens.length === 0) {
    if (bos === null) throw new Error("empty prompt, and the vocabulary has no BOS token to start from");
    tokens.push(bos);
  }
  return tokens;
}

// [[token, p], [token, p]] of the two most probable tokens of one step.
function topTwo(probabilities) {
  const best = [[-1, -1], [-1, -1]];
  for (const [token, p] of probabilities) {
    if (p > best[0][1]) { best[1] = best[0]; best[0] = [token, p]; }
    else if (p > best[1][1]) best[1] = [token, p];
  }
  return best;
}

// End offset in the generated text of each generated token (to map a character to its token).
function textEnds(model, generated, prompt) {
  const ends = [];
  for (let i = 1; i <= generated.length; i++) ends.push(model.detokenize(generated.slice(0, i), false, prompt).length);
  return ends;
}

// The text the runner-up of each step would have added instead of the chosen token.
function runnerUpTexts(model, generated, prompt, steps) {
  return steps.map(([, second], i) => {
    const before = model.detokenize(generated.slice(0, i), false, prompt);
    return model.detokenize(generated.slice(0, i).concat([second[0]]), false, prompt).slice(before.length);
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const log = makeLogCollector();
  const llama = await getLlama({
    gpu: false,            // CPU only: the machines qes targets
    build: "never",        // never compile or download: use the prebuilt npm binaries or fail
    logLevel: LlamaLogLevel.info,
    logger: log.logger,
    progressLogs: false,
    // llama.cpp's worker threads spin while waiting; on a small shared machine more threads
    // than free cores turn a one-second run into minutes, so one thread unless asked.
    maxThreads: args.threads,
  });

  let model;
  try {
    model = await llama.loadModel({ modelPath: args.model, gpuLayers: 0, useMmap: true });
  } catch (err) {
    // llama.cpp's log lines reach the logger asynchronously: let them arrive before reporting.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const report = {
      model: args.model, loaded: false, error: String(err && err.message ? err.message : err),
      llama_log: log.problems.concat(log.info.slice(-20)),
    };
    if (args.json) process.stdout.write(JSON.stringify(report) + "\n");
    else {
      process.stderr.write(`llama.cpp could not load ${args.model}: ${report.error}\n`);
      for (const line of report.llama_log) process.stderr.write(`  ${line}\n`);
    }
    process.exit(1);
  }

  const prompt = promptTokens(model, args.prompt);
  const context = await model.createContext({ contextSize: Math.max(64, prompt.length + args.maxTokens + 8), sequences: 1, threads: args.threads });
  const sequence = context.getSequence();

  // Greedy: temperature 0 picks the argmax; no repeat penalty, no other sampler. With --probs
  // each step also records llama.cpp's two most probable tokens, to tell a near-tie (where
  // another engine's rounding may pick the other one) from a real disagreement.
  const generated = [];
  const steps = [];
  let finish = "length";
  if (args.maxTokens > 0) {
    const options = { temperature: 0, yieldEogToken: true };
    const stream = args.probs ? sequence.evaluateWithMetadata(prompt, { probabilities: true }, options)
                              : sequence.evaluate(prompt, options);
    for await (const item of stream) {
      const token = args.probs ? item.token : item;
      // qes (like llama2.c) also ends a sequence at BOS; llama.cpp counts only EOG tokens.
      if (model.isEogToken(token) || token === model.tokens.bos) { finish = model.isEogToken(token) ? "eos" : "bos"; break; }
      generated.push(token);
      if (args.probs) steps.push(topTwo(item.probabilities));
      if (generated.length >= args.maxTokens) break;
    }
  }
  const text = model.detokenize(generated, false, prompt);

  const info = {
    llama_cpp_release: llama.llamaCppRelease,
    node_llama_cpp_build: llama.buildType,
    architecture: model.fileInfo.metadata?.general?.architecture ?? null,
    type: model.typeDescription,
    size_bytes: model.size,
    train_context: model.trainContextSize,
    embedding: model.embeddingVectorSize,
    vocabulary_type: model.vocabularyType,
    bos: model.tokens.bos, eos: model.tokens.eos,
    warnings: model.getWarnings(),
  };
  const report = {
    model: args.model, loaded: true, ...info,
    llama_log: log.info, llama_problems: log.problems,
    prompt: args.prompt, prompt_tokens: prompt, tokens: generated, finish, text,
  };
  if (args.probs) {
    report.top2 = steps;
    report.text_ends = textEnds(model, generated, prompt);
    report.runner_up_texts = runnerUpTexts(model, generated, prompt, steps);
  }

  if (args.json) process.stdout.write(JSON.stringify(report) + "\n");
  else {
    if (!args.quiet) {
      process.stdout.write(`llama.cpp ${info.llama_cpp_release.repo} ${info.llama_cpp_release.release} (${info.node_llama_cpp_build})\n`);
      process.stdout.write(`model ${args.model}: ${info.type}, ${info.size_bytes} bytes, vocab ${info.vocabulary_type}, ` +
                           `bos ${info.bos}, eos ${info.eos}, train context ${info.train_context}\n`);
      for (const line of log.info.filter((l) => l.startsWith("print_info:"))) process.stdout.write(`  ${line}\n`);
      for (const line of log.problems) process.stdout.write(`  ${line}\n`);
      for (const w of info.warnings) process.stdout.write(`  warning: ${w}\n`);
      process.stdout.write(`prompt tokens: ${JSON.stringify(prompt)}\n`);
      process.stdout.write(`generated tokens (${generated.length}, ${finish}): ${JSON.stringify(generated)}\n`);
      if (args.probs) {
        const margins = steps.map(([a, b]) => a[1] - b[1]);
        const i = margins.indexOf(Math.min(...margins));
        if (i >= 0) process.stdout.write(`closest call: step ${i}, p(${steps[i][0][0]}) ${steps[i][0][1].toFixed(4)} vs p(${steps[i][1][0]}) ${steps[i][1][1].toFixed(4)}\n`);
      }
      process.stdout.write("text:\n");
    }
    process.stdout.write(text + "\n");
  }
  await context.dispose();
  await model.dispose();
  await llama.dispose();
}

main().catch((err) => {
  process.stderr.write(`check.mjs: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
