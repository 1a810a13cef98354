// Jest runs the code as CommonJS, and Node 20 jest cannot require an ES module (jest supports require(esm) from
// Node 24.9 only). The ESM-only packages behind bus-kafka's platformatic driver (@platformatic/kafka and its ESM
// dependencies, see transformIgnorePatterns in jest.config.js) are compiled to CommonJS here with TypeScript's
// transpiler. Outside jest, Node 20.19+ loads them natively through require(esm).
const { createHash } = require("node:crypto");
const { readFileSync } = require("node:fs");
const ts = require("typescript");

// Cached results are keyed by this transformer's own text too, so a change here is never masked by the cache.
const SELF = readFileSync(__filename);

module.exports = {
  process(source, filename) {
    // `import.meta.url` has no CommonJS form: it becomes the file URL of the module, built without `require` (some
    // of these modules declare a `require` of their own, which is not yet initialised where the URL is used).
    const url = '("file://" + __filename.split("/").map(encodeURIComponent).join("/"))';
    const code = source
      // A module-level `const require = createRequire(import.meta.url)` would redeclare CommonJS's own `require`,
      // which already resolves from this file.
      .replace(/^const require = createRequire\(import\.meta\.url\);$/gm, "")
      .replace(/\bimport\.meta\.url\b/g, url);
    const out = ts.transpileModule(code, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        allowJs: true,
        esModuleInterop: true,
        sourceMap: false,
      },
    });
    return { code: out.outputText };
  },
  getCacheKey(source, filename) {
    return createHash("sha256").update(SELF).update(ts.version).update(filename).update(source).digest("hex");
  },
};
