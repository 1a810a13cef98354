#!/usr/bin/env node
// Fails when the TypeScript sources import each other in a cycle (npm run lint runs it after eslint).
//
// The graph is the one tsc sees: every file of tsconfig.json (sources, tests, bench), each import, re-export,
// `import()` and `require()` resolved with the compiler's own module resolution, so the workspace packages
// (@omnidaemon/* → packages/*/src through tsconfig paths) count as edges like relative imports do. Type-only
// imports count too: a cycle of types still ties two modules into one. Each strongly connected component of more
// than one file (or a file importing itself) is reported once, with one cycle through it.
//
//   node scripts/check-import-cycles.js [--project tsconfig.json]
"use strict";
const path = require("node:path");
const ts = require("typescript");

/** Parses `tsconfig` and returns the project's source files (absolute paths) and compiler options. */
function loadProject(tsconfigPath) {
  const config = ts.readConfigFile(tsconfigPath, ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, "\n"));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, path.dirname(tsconfigPath));
  const files = parsed.fileNames.filter(
    (file) => /\.(ts|tsx|mts|cts)$/.test(file) && !file.endsWith(".d.ts"),
  );
  return { files, options: parsed.options };
}

/**
 * The import graph of `files`: file → the project files it imports. `host` reads files (ts.sys by default; tests
 * pass an in-memory one).
 */
function importGraph(files, options, host = ts.sys) {
  const inProject = new Set(files.map((file) => path.resolve(file)));
  const graph = new Map();
  for (const file of inProject) {
    const text = host.readFile(file) ?? "";
    const info = ts.preProcessFile(text, true, true);
    const targets = new Set();
    for (const { fileName } of info.importedFiles) {
      const resolved = ts.resolveModuleName(fileName, file, options, host).resolvedModule;
      const target = resolved && path.resolve(resolved.resolvedFileName);
      if (target && inProject.has(target)) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** Tarjan's strongly connected components; returns the cyclic ones, each as one cycle (a path back to its start). */
function findCycles(graph) {
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  const visit = (root) => {
    // Iterative, so a deep import chain cannot overflow the call stack.
    const work = [[root, 0]];
    indices.set(root, index);
    low.set(root, index++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [node, next] = frame;
      const edges = graph.get(node) ?? [];
      if (next < edges.length) {
        frame[1]++;
        const target = edges[next];
        if (!indices.has(target)) {
          indices.set(target, index);
          low.set(target, index++);
          stack.push(target);
          onStack.add(target);
          work.push([target, 0]);
        } else if (onStack.has(target)) {
          low.set(node, Math.min(low.get(node), indices.get(target)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(node)));
      }
      if (low.get(node) === indices.get(node)) {
        const component = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.push(member);
        } while (member !== node);
        const selfImport = component.length === 1 && (graph.get(node) ?? []).includes(node);
        if (component.length > 1 || selfImport) components.push(component);
      }
    }
  };
  for (const node of [...graph.keys()].sort()) if (!indices.has(node)) visit(node);
  return components.map((component) => cycleThrough(graph, component));
}

/** One cycle inside a strongly connected component: a shortest path from its first file back to it. */
function cycleThrough(graph, component) {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const target of graph.get(node) ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const cycle = [start];
        for (let at = node; at !== start; at = previous.get(at)) cycle.splice(1, 0, at);
        return [...cycle, start];
      }
      if (!previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start, start];
}

function main(argv) {
  const at = argv.indexOf("--project");
  const root = path.resolve(__dirname, "..");
  const tsconfig = path.resolve(root, at >= 0 ? argv[at + 1] : "tsconfig.json");
  const { files, options } = loadProject(tsconfig);
  const cycles = findCycles(importGraph(files, options));
  const relative = (file) => path.relative(root, file);
  if (cycles.length === 0) {
    process.stdout.write(`no import cycles among ${files.length} TypeScript files\n`);
    return 0;
  }
  process.stderr.write(
    `${cycles.length} import cycle(s); break each by moving the shared part into its own module:\n`,
  );
  for (const cycle of cycles) process.stderr.write(`  ${cycle.map(relative).join("\n    → ")}\n`);
  return 1;
}

module.exports = { findCycles, importGraph, loadProject };

if (require.main === module) process.exitCode = main(process.argv.slice(2));
