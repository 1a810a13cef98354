// `npx omnidaemon` on a fresh clone: `npm ci` links a workspace's bin into node_modules/.bin only when the file
// exists at install time, and it links what package-lock.json records. dist/ does not exist before the first build,
// so the bin must be a committed file, and the lockfile must name that file.
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(__dirname, "..", "..", "..");
const pkg = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")) as {
  bin: Record<string, string>;
  files: string[];
};
const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
  packages: Record<string, { bin?: Record<string, string> }>;
};

describe("the omnidaemon executable", () => {
  const bin = pkg.bin.omnidaemon as string;

  it("is a file committed to git, so npm ci links it before anything is built", () => {
    const tracked = execFileSync("git", ["ls-files", "--error-unmatch", join("packages", "cli", bin)], {
      cwd: root,
      encoding: "utf8",
    });
    expect(tracked.trim()).toBe(`packages/cli/${bin}`);
    expect(statSync(join(__dirname, "..", bin)).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(__dirname, "..", bin), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  });

  it("is the one package-lock.json records, which is what npm ci links", () => {
    expect(lock.packages["packages/cli"]?.bin).toEqual(pkg.bin);
  });

  it("is published with the package", () => {
    expect(pkg.files).toContain(bin.split("/")[0]);
  });
});
