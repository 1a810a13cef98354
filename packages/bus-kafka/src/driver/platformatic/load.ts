import type * as Platformatic from "@platformatic/kafka" with { "resolution-mode": "import" };

export type PlatformaticKafka = typeof Platformatic;
export type { Platformatic };

let loaded: PlatformaticKafka | undefined;

/**
 * The `@platformatic/kafka` module, loaded on first use (never at import: a process on kafkajs never loads it).
 * It is ESM-only; this package is CommonJS, and Node 20.19+ loads ESM through `require` (jest compiles it to
 * CommonJS, see test/esm-to-cjs.js).
 */
export function platformatic(): PlatformaticKafka {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require("@platformatic/kafka") as PlatformaticKafka;
  return loaded;
}
