// The tree's rules, checked on every `npm test`: no import loops (type-only imports
// included), src/http imports nothing above it, src/relay imports no dialect and nothing
// of src/repos, and no dialect imports another.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..", "src");

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith(".ts") ? [full] : [];
  });
}

function resolve(from, spec) {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, "index.ts")]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {}
  }
  return null;
}

// `import … from "./x"`, `export … from "./x"`, `import "./x"` and `import("./x")`.
const importPattern =
  /(?:^|\n)\s*(?:import|export)\b[^;]*?\sfrom\s+["'](\.{1,2}\/[^"']+)["']|(?:^|\n)\s*import\s+["'](\.{1,2}\/[^"']+)["']|import\(["'](\.{1,2}\/[^"']+)["']\)/g;
const graph = new Map();
for (const file of files(root)) {
  const source = readFileSync(file, "utf8");
  const targets = new Set();
  for (const match of source.matchAll(importPattern)) {
    const target = resolve(file, match[1] ?? match[2] ?? match[3]);
    if (target) targets.add(target);
  }
  graph.set(file, targets);
}

const rel = (file) => path.relative(root, file);
const area = (file) => rel(file).split(path.sep)[0];
const dialectOf = (file) => (area(file) === "dialects" ? rel(file).split(path.sep)[1] : null);
const problems = [];

for (const [file, targets] of graph) {
  for (const target of targets) {
    const [from, to] = [area(file), area(target)];
    if (from === "http" && to !== "http" && to !== "env.ts")
      problems.push(`${rel(file)} (http) imports ${rel(target)}`);
    if (from === "relay" && (to === "dialects" || to === "repos" || to === "app.ts"))
      problems.push(`${rel(file)} (relay) imports ${rel(target)}`);
    if (from !== "app.ts" && from !== "index.ts" && to === "app.ts")
      problems.push(`${rel(file)} imports the top floor`);
    const [a, b] = [dialectOf(file), dialectOf(target)];
    if (a && b && a !== b && !b.endsWith(".ts")) problems.push(`dialect ${a} imports dialect ${b}: ${rel(target)}`);
  }
}

// Import loops: a depth-first search that reports each cycle once.
const state = new Map();
const stack = [];
function visit(file) {
  state.set(file, "open");
  stack.push(file);
  for (const target of graph.get(file) ?? []) {
    if (state.get(target) === "open") {
      problems.push(`import loop: ${[...stack.slice(stack.indexOf(target)), target].map(rel).join(" -> ")}`);
    } else if (!state.has(target)) visit(target);
  }
  stack.pop();
  state.set(file, "done");
}
for (const file of graph.keys()) if (!state.has(file)) visit(file);

if (problems.length > 0) {
  console.error(`architecture: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join("\n")}`);
  process.exit(1);
}
console.log(`architecture: ${graph.size} modules, no loops, layers respected`);
