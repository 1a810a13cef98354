// @ts-check
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", ".stack/**", ".kafka/**", "coverage/**"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "error",
    },
  },
  {
    // The CLI prints for people, and scripts/bench/examples are programs, not runtime packages.
    files: ["packages/cli/**", "scripts/**", "bench/**", "examples/**", "**/*.test.ts", "**/test/**"],
    rules: { "no-console": "off" },
  },
  {
    // The console runs in a browser: its globals are the DOM's, and it may not import Node.
    files: ["packages/console/src/**"],
    ignores: ["packages/console/src/index.ts"],
    languageOptions: { globals: { ...globals.browser } },
    rules: { "no-restricted-imports": ["error", { patterns: ["node:*"] }] },
  },
  {
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { ...globals.node, ...globals.jest } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
